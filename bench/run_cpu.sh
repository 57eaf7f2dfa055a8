#!/usr/bin/env bash
# The CPU rows of the README's performance table, one after the other (each benchmark runs
# MMagic 1.2.0 and ours in the same run). Logs go to bench/results/cpu-<date>-<commit>/.
# Run on an otherwise idle machine: bash bench/run_cpu.sh [STEPS...]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${MMRBVSR_VENV:-$ROOT/.venv}/bin/python"
OUT="${OUT:-bench/results/cpu-$(date +%Y-%m-%d)-$(git rev-parse --short HEAD 2>/dev/null || echo nogit)}"
mkdir -p "$OUT"
STEPS="${*:-inference inference_refine train_stage1 train_stage2 train_stage1_bf16 train_stage2_bf16 degradations restorer onnx}"
run() {  # name, command...
  local name=$1; shift
  echo "== $name: $*" | tee "$OUT/$name.log"
  /usr/bin/time -v "$@" 2>&1 | tee -a "$OUT/$name.log"
}
for step in $STEPS; do
  case $step in
    inference) run inference "$PY" bench/benchmark_inference.py --frames 10 --size 180x320 \
        --refine-thres 255 ;;
    inference_refine) run inference_refine "$PY" bench/benchmark_inference.py --frames 30 \
        --size 180x320 --refine-thres 1.5 --no-restorer ;;
    train_stage1) run train_stage1 "$PY" bench/benchmark_train.py --stage 1 --frames 30 --iters 2 ;;
    train_stage2) run train_stage2 "$PY" bench/benchmark_train.py --stage 2 --frames 10 --iters 2 ;;
    train_stage1_bf16) run train_stage1_bf16 "$PY" bench/benchmark_train.py --stage 1 --frames 30 \
        --iters 2 --amp-dtype bfloat16 ;;
    train_stage2_bf16) run train_stage2_bf16 "$PY" bench/benchmark_train.py --stage 2 --frames 10 \
        --iters 2 --amp-dtype bfloat16 ;;
    degradations) run degradations "$PY" bench/benchmark_degradations.py --cores 1 --clips 60 ;;
    restorer) run restorer "$PY" bench/benchmark_restorer.py --device cpu --frames 40 \
        --size 90x160 --window 20 --overlap 5 --extra-windows 40/0 --warmup 0 ;;
    onnx) run onnx "$PY" bench/benchmark_onnx.py --frames 5 --size 180x320 \
        --onnx "$OUT/realbasicvsr.onnx" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
rm -f "$OUT/realbasicvsr.onnx"
echo "logs in $OUT"
