#!/usr/bin/env bash
# Sets up the verified stack (tools/setup_env.sh, cached after the first run), then
# runs the linter and the whole test suite on CPU. Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
VENV="${MMRBVSR_VENV:-$ROOT/.venv}"
"$VENV/bin/ruff" check mmrbvsr tools tests bench configs setup.py
"$VENV/bin/python" -m pytest tests -q -p no:cacheprovider "$@"
