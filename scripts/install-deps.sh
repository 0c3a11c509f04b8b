#!/usr/bin/env bash
# Installs the Debian 12 packages lrbench needs; idempotent: skips what is present.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache git pkg-config
  libtorch-dev libopenblas0-pthread          # LibTorch 1.13 (CPU); OpenBLAS: 30x faster GEMM than reference BLAS
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libssl-dev zlib1g-dev                       # sha256/md5 of data files; gzip IDX/CIFAR
  libbenchmark-dev libgtest-dev libgmock-dev
  dataset-fashion-mnist                       # /usr/share/datasets/fashion-mnist
  wordnet-base wordnet-dev
  gnuplot-nox                                 # plots of the reports (PNG beside the Markdown, SVG in the HTML page)
  chromium                                    # headless browser test of the HTML report (ctest html_chromium_test)
  clang libclang-rt-14-dev                    # libFuzzer + sanitizers for tests/fuzz (make fuzz, ctest fuzz_replay)
  libgloo-dev                                 # headers of Gloo, which LibTorch's c10d ProcessGroupGloo includes (--nproc)
  slurm-wlm munge                             # a single-node Slurm that ctest slurm_array_test starts (LAUNCHER=slurm)
  python3-venv                                # the venv that scripts/install-torch2.sh puts the torch wheel in (make torch2)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "install-deps: not root; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
