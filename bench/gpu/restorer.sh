#!/usr/bin/env bash
# VideoRestorer on one GPU: the CUDA tests of batched windows, then the end-to-end benchmark
# (bench/benchmark_restorer.py) at 180x320 -> 720p (300 frames) and 540x960 -> 4K (120 frames):
# ours batched / sequential in bf16, ours in fp32 for the PSNR, MMagic's inferencer (whole clip
# and max_seq_len chunks) in fp32, the encoder alone, a profile where 720p stays under 600
# frames/s. About 4-5 minutes on an H200 with 16 cores (the steps' timeouts bound it to 6.5).
#
# Where pip works:  WITH_AV=1 bash bench/gpu_carry.sh && bash bench/gpu/restorer.sh --pack
# (the kit with PyAV and SPyNet's weights, plus the input clip bikes.mp4 from the media cache)
# On the GPU box:   bash bench/gpu/restorer.sh        (logs to $OUT, or gpu_logs/)
# or from bench/run_gpu.sh after its install step:  restorer_steps (source this file).
# On a CPU, to check this script:  bash bench/gpu/restorer.sh --device cpu --quick
set -uo pipefail
device=${device:-cuda}
quick=${quick:-0}
media=${MEDIA:-}  # the input clip; default: bikes.mp4 in the kit's media cache
out=${OUT:-${out:-gpu_logs}}
py=${PYTHON:-python3}

step() {  # step NAME SECONDS ARGS...: one step, its output kept in $out/NAME.log
  local name=$1 seconds=$2
  shift 2
  echo "## $name: $*"
  timeout "$seconds" "$@" 2>&1 | grep -v -i -e warn -e check_for_updates | tee "$out/$name.log"
}

install_kit() {  # as bench/run_gpu.sh does, unless done
  if [ ! -d /tmp/mmrbvsr_site/mmagic ]; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --target /tmp/mmrbvsr_site \
      .gpu/whl/*.whl || exit 1
    cp -r .gpu/site/* /tmp/mmrbvsr_site/
  fi
  if [ -d .gpu/cache ]; then  # the kit's media cache
    export MMRBVSR_CACHE=$PWD/.gpu/cache
  fi
}

first() {  # the first of its arguments that is a file
  for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done
}

restorer_steps() {
  local input=() spynet=() bench=(bench/benchmark_restorer.py --device "$device" --psnr
                                  --profile) clip weights
  clip=$(first "$media" "${MMRBVSR_CACHE:-$HOME/.cache/mmrbvsr}/media/bikes.mp4" \
         .gpu/cache/media/bikes.mp4 .gpu/media/bikes.mp4)
  [ -n "$clip" ] && input=(--input "$clip")
  weights=$(first .gpu/spynet_basicvsr_reds4.pth)
  [ -n "$weights" ] && spynet=(--spynet "$weights")
  echo "input: ${clip:-synthetic}; SPyNet: ${weights:-random}"
  if [ "$quick" = 1 ]; then  # the script's logic at toy size: tiny network, short clips
    bench+=(--mid-channels 8 --blocks 1 --window 6 --overlap 2)
    step restorer_tests 600 "$py" -m pytest -q -p no:cacheprovider \
      tests/test_apis/test_restorer_cuda.py tests/test_apis/test_pipeline.py
    step restorer_720p 900 "$py" "${bench[@]}" "${input[@]}" --frames 16 --size 32x56 \
      --sweep 2 --extra-windows 8/2 6/0 --encoder-presets ultrafast --target-fps 600
    step restorer_4k 900 "$py" "${bench[@]}" "${input[@]}" --frames 8 --size 48x80 \
      --sweep 2 --encoder-presets ultrafast --target-fps 60
    return
  fi
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv
  nproc
  # ~30 s: batched windows on CUDA (each clip as alone, graphs per batch size, the YUV path,
  # the default B against the memory model), and the CUDA graphs' own tests
  step restorer_tests 90 "$py" -m pytest -q -p no:cacheprovider \
    tests/test_apis/test_restorer_cuda.py tests/test_ops/test_cuda_graph.py
  # x264 superfast: at 720p it costs ~12 CPU-ms a frame (veryfast ~21, medium ~50, ultrafast
  # ~5; one Zen 4 core, bikes content), i.e. ~7 of the 16 cores at 600 frames/s
  # ~70 s: MMagic 2 x ~10 s; ours 2 runs each (warm-up, timed) of ~1 s; fp32 for the PSNR
  # ~3 s; B = 4 and 16 end to end; windows 60/10 and 30/0 (MMagic's chunking: no overlap);
  # the encoder alone on 300 frames; the profile ~5 s
  step restorer_720p 120 "$py" "${bench[@]}" "${input[@]}" "${spynet[@]}" --frames 300 \
    --size 180x320 --preset superfast --sweep 4 16 --extra-windows 60/10 30/0 \
    --encoder-presets superfast ultrafast veryfast medium --target-fps 600
  # ~130 s: MMagic 2 x ~45 s (compute ~15 s, tensor2img and mp4v ~25 s at 4K); ours ~3 s a
  # run; fp32 ~8 s; B = 4 end to end; window 60/10; the encoder alone on 120 4K frames
  step restorer_4k 180 "$py" "${bench[@]}" "${input[@]}" "${spynet[@]}" --frames 120 \
    --size 540x960 --preset superfast --sweep 4 --extra-windows 60/10 \
    --encoder-presets superfast veryfast --target-fps 60
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # run, not sourced
  cd "$(dirname "$0")/../.."
  pack=0
  while [ $# -gt 0 ]; do
    case $1 in
      --device) device=$2; shift ;;
      --quick) quick=1 ;;
      --pack) pack=1 ;;
      *) echo "unknown option $1 (--device DEV, --quick, --pack)"; exit 2 ;;
    esac
    shift
  done
  if [ "$pack" = 1 ]; then  # the input clip into the kit's media cache
    mkdir -p .gpu/cache/media
    cp "${MMRBVSR_CACHE:-$HOME/.cache/mmrbvsr}/media/bikes.mp4" .gpu/cache/media/ && du -sh .gpu
    exit
  fi
  mkdir -p "$out"
  if [ "$device" = cuda ]; then
    install_kit
    export PYTHONPATH=/tmp/mmrbvsr_site:$PWD
  else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  fi
  export PYTHONUNBUFFERED=1
  restorer_steps
fi
