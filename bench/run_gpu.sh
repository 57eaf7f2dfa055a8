#!/usr/bin/env bash
# The GPU benchmarks and CUDA tests in one go, on a box with PyTorch (CUDA) and no
# package registry: first `bash bench/gpu_carry.sh` where pip works, then send the
# repository with .gpu/ and run `bash bench/run_gpu.sh` there. Logs go to $OUT (or
# gpu_logs/); docs/benchmarks.md holds what it printed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_logs}
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/mmrbvsr_site \
  .gpu/whl/*.whl || exit 1
cp -r .gpu/site/* /tmp/mmrbvsr_site/
if [ -d .gpu/extra ] && ! python3 -c 'import cuda.bindings.driver' 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/mmrbvsr_site \
    .gpu/extra/*.whl
fi
# the weights gpu_carry.sh packed (the frames are the repository's tests/data)
export MMRBVSR_CACHE=$PWD/.gpu/cache
export PYTHONPATH=/tmp/mmrbvsr_site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version(),
'cudnn.allow_tf32', torch.backends.cudnn.allow_tf32, 'matmul.allow_tf32',
torch.backends.cuda.matmul.allow_tf32, 'cudnn.benchmark', torch.backends.cudnn.benchmark)"
# a WITH_AV=1 kit carries BasicVSR's SPyNet alone, not the whole BasicVSR checkpoint
spynet=()
[ -e .gpu/cache/media/BasicVSR_REDS4.pth ] || spynet=(--spynet .gpu/spynet_basicvsr_reds4.pth)
run() {  # run NAME ARGS...: one step, its output kept in $out/NAME.log
  local name=$1; shift
  case " ${STEPS:-$name} " in *" $name "*) ;; *) return ;; esac
  echo "## $name: $*"
  timeout "${STEP_TIMEOUT:-300}" "$@" 2>&1 | grep -v -i warn | tee "$out/$name.log"
}
# STEPS="tests bf16_basicvsr ..." runs only those. The degradation benchmark needs PyAV,
# which the box lacks: pack the kit with WITH_AV=1 (no BasicVSR weights then) and run
# STEPS="tests degradations".
run tests python3 -m pytest -q -p no:cacheprovider tests/test_ops/test_cuda_graph.py \
  tests/test_ops/test_epilogue.py tests/test_ops/test_cudnn_fused.py tests/test_datasets/test_transforms/test_functional/test_tensor_ops.py
run conv_cuda python3 bench/benchmark_conv_cuda.py
# needs PyAV: a kit packed with WITH_AV=1 bash bench/gpu_carry.sh (~2.6 s per clip: give
# it STEP_TIMEOUT above 3 x CLIPS seconds; it prints at the end)
run degradations python3 bench/benchmark_degradations.py --cores 1 --clips "${CLIPS:-60}" \
  --device cuda --profile
run profile python3 bench/profile_inference_cuda.py --frames 30 "${spynet[@]}"
run bf16_realbasicvsr python3 bench/benchmark_bf16.py --device cuda --net realbasicvsr \
  --frames 30 --repeat 5 --profile "${spynet[@]}"
run bf16_realbasicvsr_cudnn_benchmark python3 bench/benchmark_bf16.py --device cuda \
  --net realbasicvsr --frames 30 --repeat 5 --cudnn-benchmark "${spynet[@]}"
run bf16_realbasicvsr_100 python3 bench/benchmark_bf16.py --device cuda --net realbasicvsr \
  --frames 100 --repeat 3 "${spynet[@]}"
run train_stage1_bf16 python3 bench/benchmark_train.py --device cuda --stage 1 --frames 30 \
  --iters 5 --amp-dtype bfloat16 --compare-branches
run train_stage2_bf16 python3 bench/benchmark_train.py --device cuda --stage 2 --frames 10 \
  --iters 5 --amp-dtype bfloat16 --compare-branches
run bf16_basicvsr python3 bench/benchmark_bf16.py --device cuda --frames 30 --repeat 5
run train_stage1_fp32 python3 bench/benchmark_train.py --device cuda --stage 1 --frames 30 \
  --iters 5 --compare-branches
# the ONNX graph (mmrbvsr.deploy), exported on the box, run by onnxruntime's CPU provider
# (the box's onnxruntime package has no CUDA provider) beside our PyTorch bf16 on the GPU
# and both PyTorch fp32 on the CPU, same real frames; give it STEP_TIMEOUT=900
run onnx python3 bench/benchmark_onnx.py --device cuda --frames 10 --size 180x320
