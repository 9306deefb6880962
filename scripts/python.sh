# Sourced by the other scripts: find Python 3.12+ and prepare .venv with the requirements.
# Sets PY to the virtual environment's interpreter.

find_python() {
  local candidate version
  for candidate in python3.14 python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.|$)' | sort -V -r); do
      candidate="$(pyenv root)/versions/$version/bin/python3"
      if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
  fi
  return 1
}

prepare_venv() {
  # $1: the requirements file to install (requirements.txt or requirements-dev.txt)
  local requirements="$1" base stamp
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    base="$(find_python)" || {
      echo "Click-to-Call needs Python 3.12 or newer, and none was found." >&2
      echo "Install one, e.g. 'apt-get install python3.12 python3.12-venv', 'pyenv install 3.13', or from https://www.python.org/downloads/, then run this again." >&2
      exit 1
    }
    echo "Creating .venv with $base ($("$base" --version))"
    rm -rf .venv
    "$base" -m venv .venv
  fi
  PY="$PWD/.venv/bin/python"
  stamp=".venv/.installed-$(cat requirements*.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)"
  # requirements-dev.txt includes requirements.txt: either stamp covers the runtime ones.
  if [ ! -f "$stamp-$(basename "$requirements")" ] && [ ! -f "$stamp-requirements-dev.txt" ]; then
    "$PY" -m pip install --disable-pip-version-check -q --upgrade pip
    "$PY" -m pip install --disable-pip-version-check -q -r "$requirements"
    touch "$stamp-$(basename "$requirements")"
  fi
}
