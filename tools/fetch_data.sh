#!/usr/bin/env bash
# Downloads the official dataset files into the layout lrbench reads (never run by tests or the build).
# Usage: tools/fetch_data.sh {mnist|fashion-mnist|cifar10|ag-news|cora|all} [DEST]
# DEST defaults to $LRBENCH_DATA, else ./data. Checks md5 where one is published; lrbench then checks sha256.
set -euo pipefail

dataset="${1:-}"
dest="${2:-${LRBENCH_DATA:-./data}}"

die() { echo "fetch_data.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "needs $1"; }
need curl
need md5sum

# get URL FILE [MD5]: download unless present, then check the md5 when one is given.
get() {
  local url="$1" out="$2" md5="${3:-}"
  mkdir -p "$(dirname "$out")"
  [[ -s "$out" ]] || { echo "downloading $url"; curl -fL --retry 3 -o "$out.part" "$url"; mv "$out.part" "$out"; }
  if [[ -n "$md5" ]]; then
    echo "$md5  $out" | md5sum -c --quiet - || die "$out: md5 differs from $md5 (remove it and retry)"
  fi
}

mnist() {
  local base=https://ossci-datasets.s3.amazonaws.com/mnist
  get $base/train-images-idx3-ubyte.gz "$dest/mnist/train-images-idx3-ubyte.gz" f68b3c2dcbeaaa9fbdd348bbdeb94873
  get $base/train-labels-idx1-ubyte.gz "$dest/mnist/train-labels-idx1-ubyte.gz" d53e105ee54ea40749a09fcbcd1e9432
  get $base/t10k-images-idx3-ubyte.gz "$dest/mnist/t10k-images-idx3-ubyte.gz" 9fb629c4189551a2d022fa330f9573f3
  get $base/t10k-labels-idx1-ubyte.gz "$dest/mnist/t10k-labels-idx1-ubyte.gz" ec29112dd5afa0611ce80d1b7f02629c
}

fashion_mnist() {
  echo "Fashion-MNIST comes from Debian: sudo apt-get install dataset-fashion-mnist"
  echo "(installs /usr/share/datasets/fashion-mnist, which lrbench reads by default; or put the four"
  echo " *-idx?-ubyte.gz files of github.com/zalandoresearch/fashion-mnist in $dest/fashion-mnist/)"
}

cifar10() {
  need tar
  local tgz="$dest/cifar10/cifar-10-binary.tar.gz"
  get https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "$tgz" c32a1d4ab5d03f1284b67883e8d87530
  tar -xzf "$tgz" -C "$dest/cifar10"  # -> cifar10/cifar-10-batches-bin/, preferred over the lossy copy
  rm -f "$tgz"
}

ag_news() {
  local base=https://github.com/mhjabreel/CharCnn_Keras/raw/master/data/ag_news_csv
  get $base/train.csv "$dest/ag_news/train.csv" b1a00f826fdfbd249f79597b59e1dc12
  get $base/test.csv "$dest/ag_news/test.csv" d52ea96a97a2d943681189a97654912d
  get $base/classes.txt "$dest/ag_news/classes.txt"
}

cora() {
  local base=https://github.com/tkipf/gcn/raw/master/gcn/data f
  for f in x y tx ty allx ally graph test.index; do get "$base/ind.cora.$f" "$dest/cora/planetoid/ind.cora.$f"; done
  echo "Cora: the Planetoid pickles are in $dest/cora/planetoid/. lrbench reads the text conversion in"
  echo "$dest/cora/text/ (cora.content, cora.cites, cora.split.{train,val,test}.txt; see shared/data/README.md),"
  echo "which this script does not build: copy it from shared/data/cora/text/."
}

case "$dataset" in
  mnist) mnist ;;
  fashion-mnist) fashion_mnist ;;
  cifar10) cifar10 ;;
  ag-news) ag_news ;;
  cora) cora ;;
  all) mnist; fashion_mnist; cifar10; ag_news; cora ;;
  *) die "usage: $0 {mnist|fashion-mnist|cifar10|ag-news|cora|all} [DEST]  (DEST default: \$LRBENCH_DATA or ./data)" ;;
esac
echo "done: $dataset -> $dest"
