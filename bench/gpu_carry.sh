#!/usr/bin/env bash
# Packs what the benchmarks need on a GPU box that has PyTorch but no package registry
# (Python 3.12, torch with CUDA, numpy, opencv, torchvision) into .gpu/ (~28 MB):
# pure-Python wheels of mmengine, mmagic and their small dependencies, and mmcv 2.1.0's
# Python code without its compiled ops (MMagic's RealBasicVSR uses none of them; see
# bench/common.py:import_mmagic_models), and the weights the benchmarks read (~25 of the
# 28 MB: BasicVSR_REDS4.pth from the media cache of tools/fetch_test_media.py, fetched here
# if missing; the frames, tests/data, travel with the repository). On the box,
# `bash bench/run_gpu.sh` installs it and runs the benchmarks.
# WITH_AV=1 packs PyAV 12.3.0 for the box's Python 3.12 and BasicVSR's SPyNet alone instead
# of the BasicVSR weights (~45 MB: a call carries at most 64 MiB), for run_gpu.sh's
# `degradations` step and the RealBasicVSRNet runs. WITH_CUDNN_FRONTEND=1 adds NVIDIA's
# cudnn-frontend (cudnn_fused.py; with WITH_AV=1 the kit passes 64 MiB: then delete
# .gpu/whl/av-*.whl unless the degradation step runs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
rm -rf "$out" && mkdir -p "$out/whl" "$out/site"
python3 -m pip download -q --no-deps -d "$out/whl" \
  mmengine==0.10.7 mmagic==1.2.0 addict==2.4.0 yapf==0.43.0 termcolor platformdirs
# mmcv 2.1.0 has no wheel for current torch: take its Python files from the wheel that
# tools/setup_env.sh built (or from the sdist)
wheel=$(ls ~/.cache/mmrbvsr/wheels/*/mmcv-2.1.0-*.whl 2>/dev/null | head -1 || true)
if [ -n "$wheel" ]; then
  python3 - "$wheel" "$out/site" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist()
                               if not n.endswith('.so') and '/csrc/' not in n])
PY
else
  python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$out" mmcv==2.1.0
  tar -xzf "$out"/mmcv-2.1.0.tar.gz -C "$out" && rm "$out"/mmcv-2.1.0.tar.gz
  (cd "$out/mmcv-2.1.0" && rm -rf mmcv/ops/csrc && mv mmcv ../site/)
  rm -rf "$out/mmcv-2.1.0"
fi
# the benchmarks' weights: the box has no network, so they travel in a media cache of its
# own, which run_gpu.sh points MMRBVSR_CACHE at
python3 tools/fetch_test_media.py BasicVSR_REDS4.pth
weights="${MMRBVSR_CACHE:-$HOME/.cache/mmrbvsr}/media/BasicVSR_REDS4.pth"
mkdir -p "$out/cache/media"
if [ "${WITH_AV:-0}" = 1 ]; then  # the codec for the degradation benchmark
  python3 -m pip download -q --no-deps --only-binary :all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$out/whl" av==12.3.0
  # BasicVSR_REDS4's SPyNet alone (6 MB) for benchmark_bf16.py --net realbasicvsr
  .venv/bin/python -c "import sys; from mmrbvsr.checkpoint import convert_checkpoint
convert_checkpoint(sys.argv[1], spynet_out=sys.argv[2], strict=True)" \
    "$weights" "$out/spynet_basicvsr_reds4.pth"
else
  cp "$weights" "$out/cache/media/"
fi
if [ "${WITH_CUDNN_FRONTEND:-0}" = 1 ]; then  # cuDNN's fused conv + bias + add (~20 MB)
  mkdir -p "$out/extra"
  python3 -m pip download -q --no-deps --only-binary :all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$out/whl" \
    nvidia-cudnn-frontend
  # its driver bindings, installed on the box only where PyTorch did not bring them
  python3 -m pip download -q --no-deps --only-binary :all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d "$out/extra" \
    cuda-bindings cuda-pathfinder
fi
du -sh "$out"
