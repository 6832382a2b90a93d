#!/usr/bin/env bash
# requirements.lock: every package of the environment (runtime + test extras), pinned for each
# Python we support (3.11+) by uv's universal resolution, installed with plain pip.
#
#   bash tools/lock.sh            after editing pyproject.toml: re-resolve, keeping every other pin
#   bash tools/lock.sh --upgrade  move every package to its newest allowed release (then run the tests)
#   bash tools/lock.sh --check    fail, showing the difference, if the lock is out of date with
#                                 pyproject.toml (CI); changes nothing
# Needs uv (`pip install uv`) and the package index; the existing pins are uv's preferences, so
# an unchanged pyproject.toml resolves to the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v uv >/dev/null || { echo "tools/lock.sh: needs uv: pip install uv" >&2; exit 2; }
compile() {  # $1: the output file (its pins are kept where pyproject.toml allows), then uv flags
  local out=$1; shift
  uv pip compile --quiet pyproject.toml --extra test --universal --python-version 3.11 \
    --custom-compile-command "bash tools/lock.sh" -o "$out" "$@"
}
if [ "${1:-}" = "--check" ]; then
  fresh="$(mktemp)" && trap 'rm -f "$fresh"' EXIT
  cp requirements.lock "$fresh"
  compile "$fresh"
  if ! diff -u requirements.lock "$fresh"; then
    echo "requirements.lock is out of date with pyproject.toml: run bash tools/lock.sh and commit it" >&2
    exit 1
  fi
  echo "requirements.lock is up to date with pyproject.toml"
  exit 0
fi
compile requirements.lock "$@"
echo "requirements.lock written: commit it with pyproject.toml"
