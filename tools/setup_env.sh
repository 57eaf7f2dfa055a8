#!/usr/bin/env bash
# Builds the verified stack into .venv (idempotent; a second run only checks a stamp).
# mmcv 2.1.0 has no wheel for this torch: it is built once from the sdist (with the
# C++20 fix torch >= 2.6 headers need) and cached in $MMRBVSR_CACHE (default ~/.cache/mmrbvsr),
# beside the real clips and weights the tests read (tools/fetch_test_media.py, every run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMRBVSR_VENV:-$ROOT/.venv}"
CACHE="${MMRBVSR_CACHE:-$HOME/.cache/mmrbvsr}"
export MMRBVSR_CACHE="$CACHE"
PY="${PYTHON:-python3.11}"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
STAMP="$VENV/.mmrbvsr-stamp"
# sha256-checks the cached test media and fetches what is missing; without a network
# setup still succeeds and only the tests that need those files skip
fetch_media() {
  "$VENV/bin/python" "$ROOT/tools/fetch_test_media.py" || echo "setup_env: warning: test" \
    "media not fetched into $CACHE/media: the tests that need them skip; fetch them later" \
    "with: python tools/fetch_test_media.py" >&2
}
want="$(cat "$CONSTRAINTS" "$ROOT/requirements/tests.txt" "$ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  fetch_media
  echo "setup_env: $VENV is up to date"
  exit 0
fi

[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
# pip warns about every package the machine's local indexes lack; keep its errors only
quiet() { "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
  return "${PIPESTATUS[0]}"; }
pip=(quiet "$VENV/bin/python" -m pip install -q -c "$CONSTRAINTS")
"${pip[@]}" pip==25.3 setuptools wheel
"${pip[@]}" torch torchvision

torch_ver="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
wheel_dir="$CACHE/wheels/torch-$torch_ver"
mkdir -p "$wheel_dir"
if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
  echo "setup_env: building mmcv 2.1.0 with ops against torch $torch_ver (about 12 min on 2 cores)"
  build="$(mktemp -d)"
  quiet "$VENV/bin/python" -m pip download -q --no-deps --no-build-isolation --no-binary :all: mmcv==2.1.0 -d "$build"
  tar -xzf "$build"/mmcv-2.1.0.tar.gz -C "$build"
  sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' "$build/mmcv-2.1.0/setup.py"
  "${pip[@]}" ninja
  (cd "$build/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
    quiet "$VENV/bin/python" -m pip wheel -q --no-build-isolation --no-deps -w "$build/out" .)
  mv "$build"/out/mmcv-2.1.0-*.whl "$wheel_dir/"
  rm -rf "$build"
fi

"${pip[@]}" "$wheel_dir"/mmcv-2.1.0-*.whl
"${pip[@]}" mmengine mmagic numpy opencv-python opencv-python-headless diffusers \
  huggingface_hub transformers mediapipe albumentations av pandas tensorboard protobuf \
  -r "$ROOT/requirements/tests.txt"
"${pip[@]}" --no-deps -e "$ROOT"
# PyAV 18 beside the pinned 12 (MMagic's reference needs <= 12): tests run our
# video compression against it in a subprocess with PYTHONPATH=$VENV/av18
[[ -d "$VENV/av18/av" ]] || quiet "$VENV/bin/python" -m pip install -q --no-deps --target "$VENV/av18" av==18.1.0
fetch_media
echo "$want" > "$STAMP"
echo "setup_env: done ($VENV)"
