#!/usr/bin/env bash
# Copies the small records of a table's runs (everything a report reads: config.resolved.yaml, run.json,
# metrics.csv, steps.csv, eval/*.csv and eval/*.matched-*.json, wall_seconds; never checkpoints, resume states, logs or .parts) into a
# folder meant to be committed beside the results, so `make report` re-renders every committed table on a
# machine that never trained it. A run's folder there is replaced whole (no stale eval CSV survives).
#   tools/keep_records.sh RUNS_DIR DEST      e.g. runs/table1-quick results/runs/table1-quick
set -euo pipefail
src=${1:?usage: tools/keep_records.sh RUNS_DIR DEST} dest=${2:?usage: tools/keep_records.sh RUNS_DIR DEST}
[[ -d $src ]] || { echo "tools/keep_records.sh: $src: no such folder" >&2; exit 2; }
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "${dest%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
for run in "$src"/*/; do
  run=${run%/}
  [[ -f $run/run.json && -f $run/config.resolved.yaml ]] || continue
  name=$(basename "$run")
  mkdir -p "$tmp/$name"
  for f in config.resolved.yaml run.json metrics.csv steps.csv; do
    [[ -f $run/$f ]] && cp -p "$run/$f" "$tmp/$name/"
  done
  if compgen -G "$run/eval/*.csv" >/dev/null; then
    mkdir -p "$tmp/$name/eval"
    cp -p "$run"/eval/*.csv "$tmp/$name/eval/"
  fi
  if compgen -G "$run/eval/*.matched-*.json" >/dev/null; then  # lrbench eval --match: which snapshot, or why none
    mkdir -p "$tmp/$name/eval"
    cp -p "$run"/eval/*.matched-*.json "$tmp/$name/eval/"
  fi
  n=$((n + 1))
done
[[ -f $src/wall_seconds ]] && cp -p "$src/wall_seconds" "$tmp/"
(( n > 0 )) || { echo "tools/keep_records.sh: $src holds no finished run" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
trap - EXIT
echo "kept the records of $n runs in $dest ($(du -sh "$dest" | cut -f1))"
