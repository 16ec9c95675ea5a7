# Sourced by scripts/run and scripts/test: makes .venv with Python 3.11 and installs the pinned
# requirements file given as $1, again only when a requirements file changed.
set -euo pipefail

find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)." >&2
  return 1
}

requirements=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$(find_python)" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=".venv/.installed-$(basename "$requirements")"
wanted=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing $requirements ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$stamp"
fi
