# Sourced by the scripts: make .venv with this project and its test tools (cmake,
# ninja, pytest all come from PyPI), once; then put it first on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
stale=0
for f in pyproject.toml setup.py c-launcher/zccache.c zccache_client.py zccache_wire.py; do
  [ "$ROOT/$f" -nt "$VENV/.installed" ] && stale=1
done
if [ ! -x "$VENV/bin/python" ] || [ "$stale" = 1 ]; then
  echo "setting up $VENV (log: $VENV/install.log)" >&2
  "$PY" -m venv "$VENV"
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$ROOT[test]"; } >"$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    echo "installing into $VENV failed" >&2
    exit 1
  fi
  touch "$VENV/.installed"
fi
export PATH="$VENV/bin:$PATH"
