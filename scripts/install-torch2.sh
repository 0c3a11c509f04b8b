#!/usr/bin/env bash
# Installs the LibTorch 2.x of the second build: PyPI's `torch` wheel (CUDA-enabled; its LibTorch and CMake
# package under torch/share/cmake) into a virtual environment of its own, so nothing reaches the system Python.
# Idempotent: a venv that already holds the pinned version is left alone.
#   scripts/install-torch2.sh VENV     (make torch2 passes build-torch2/venv)
# Prints the wheel's LibTorch root (site-packages/torch: lib/, include/, share/cmake/Torch) on its last line, for
# CMAKE_PREFIX_PATH; naming the root rather than share/cmake keeps find_library(torch) off Debian's libtorch.so.
set -euo pipefail
# The one place the 2.x version is pinned (the newest the package index served on 2026-12-07). The wheel pulls
# the CUDA runtime it was built with (cuda-toolkit 13.2, cuDNN, NCCL as pip packages): libtorch_cuda.so needs
# them to load even where no GPU is present.
TORCH2_VERSION=2.15.0
VENV=${1:?usage: install-torch2.sh VENV}
PY=${LRB_TORCH2_PYTHON:-/usr/bin/python3}

have_version() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("torch") != sys.argv[1])' \
      "$TORCH2_VERSION" 2>/dev/null
}

if have_version; then
  echo "install-torch2: torch $TORCH2_VERSION present in $VENV" >&2
else
  if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "install-torch2: $PY has no venv module; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
  # A half-built venv from an interrupted install is rebuilt, never patched.
  rm -rf "$VENV.partial"
  "$PY" -m venv "$VENV.partial"
  "$VENV.partial/bin/python" -m pip install --quiet --progress-bar off "torch==$TORCH2_VERSION" >&2
  rm -rf "$VENV"
  mv "$VENV.partial" "$VENV"
  # venv scripts name the folder they were made in; the interpreter itself does not care, pip's launchers do.
  # Text files only (the python links stay links); the paths are literal strings, not patterns.
  grep -rlI --fixed-strings -- "$VENV.partial" "$VENV/bin" |
    OLD="$VENV.partial" NEW="$VENV" xargs -r perl -pi -e 's/\Q$ENV{OLD}\E/$ENV{NEW}/g'  || true
  have_version || { echo "install-torch2: torch $TORCH2_VERSION did not install into $VENV" >&2; exit 1; }
  echo "install-torch2: installed torch $TORCH2_VERSION into $VENV" >&2
fi
"$VENV/bin/python" -c 'import importlib.util as u; print(u.find_spec("torch").submodule_search_locations[0])'
