#!/usr/bin/env bash
# Prints the interpreter to build the project's virtual environment with: Python 3.13 where present (also inside
# pyenv, whichever version pyenv has active), else the newest Python >= 3.11.
# With an argument (e.g. `3.13`), prints only an interpreter of exactly that version, or fails.
set -u
want=${1:-}
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }
versions=(3.13 3.12 3.11)
[ -n "$want" ] && versions=("$want")
root=${PYENV_ROOT:-$HOME/.pyenv}
candidates=()
for v in "${versions[@]}"; do
  candidates+=("python$v")
  for p in "$root"/versions/"$v"*/bin/python"$v"; do [ -x "$p" ] && candidates+=("$p"); done
done
[ -z "$want" ] && candidates+=(python3)
for c in "${candidates[@]}"; do
  if command -v "$c" >/dev/null 2>&1 && ok "$c"; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "No suitable Python ${want:->= 3.11} found; install Python 3.13 (for example with pyenv)." >&2
exit 1
