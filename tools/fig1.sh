#!/usr/bin/env bash
# The paper's Figure 1 (§4.6) on ResNet-5: cosine similarity of each layer's LR gradient to exact BP as
# the copies grow. Panels: a logit noise only, b weight noise only, c hybrid (LR-WL); d-f hybrid with
# sigma 1e-1 / 1e-2 / 1e-3 on every layer; g no layer-wise injection; h no antithetic; i QMC (Sobol).
# Usage: tools/fig1.sh [LRBENCH] [key=value ...]    (extra overrides go to every panel, e.g.
#        gradcheck.copies=[10,100,1000] gradcheck.repeats=2 gradcheck.batch_size=16)
# Writes $FIG1_OUT (default results/fig1): fig1.csv (all rows), summary.dat, a.png ... i.png, fig1.png.
# FIG1_PANELS="g h" reruns only those panels; the figure is drawn from every panel CSV present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
lrbench=${1:-$here/build/apps/lrbench}
shift $(( $# > 0 ? 1 : 0 ))
out=${FIG1_OUT:-$here/results/fig1}
export LRB_SOURCE_DIR=$here   # experiments/fig1/*.yaml compose groups from experiments/conf
# A busy-waiting OpenMP worker competes with OpenBLAS and other processes for the 2 cores (2-3x slower).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
mkdir -p "$out"

all=(a b c d e f g h i)
read -r -a panels <<< "${FIG1_PANELS:-${all[*]}}"
declare -A title=(
  [a]="(a) logit noise only" [b]="(b) weight noise only" [c]="(c) hybrid (LR-WL)"
  [d]="(d) sigma 1e-1" [e]="(e) sigma 1e-2" [f]="(f) sigma 1e-3"
  [g]="(g) no layer-wise injection" [h]="(h) no antithetic" [i]="(i) QMC (Sobol)")
declare -A args=(
  [a]="trainer.modes=logit" [b]="trainer.modes=weight" [c]=""
  [d]="trainer.sigma=1.0e-1" [e]="trainer.sigma=1.0e-2" [f]="trainer.sigma=1.0e-3"
  [g]="trainer.layerwise=false" [h]="trainer.antithetic=false" [i]="trainer.noise=sobol")

for p in "${panels[@]}"; do
  start=$(date +%s)
  # shellcheck disable=SC2086  # the panel's overrides are separate words
  "$lrbench" gradcheck "$here/experiments/fig1/base.yaml" gradcheck.panel=$p ${args[$p]} "$@" --out "$out/$p.csv" >/dev/null
  echo "fig1: panel ${title[$p]} done in $(( $(date +%s) - start )) s"
done

# One CSV, then mean / min / max cosine per (panel, layer, copies) over the repeats.
have=()
for p in "${all[@]}"; do [[ -f "$out/$p.csv" ]] && have+=("$p"); done
: > "$out/titles.tsv"
for p in "${have[@]}"; do printf '%s\t%s\n' "$p" "${title[$p]}" >> "$out/titles.tsv"; done
{ head -n 1 "$out/${have[0]}.csv"; for p in "${have[@]}"; do tail -n +2 "$out/$p.csv"; done; } > "$out/fig1.csv"
awk -F, 'NR > 1 { k = $1 " " $2 " " $6; n[k]++; s[k] += $8
                  if (!(k in lo) || $8 < lo[k]) lo[k] = $8; if (!(k in hi) || $8 > hi[k]) hi[k] = $8 }
         END { for (k in n) print k, s[k] / n[k], lo[k], hi[k] }' "$out/fig1.csv" | sort -k1,1 -k2,2 -k3,3g > "$out/summary.dat"
gnuplot -e "dat='$out/summary.dat'; titles='$out/titles.tsv'; out='$out'" "$here/tools/fig1.gp"
echo "fig1: wrote $out/fig1.csv, $out/summary.dat, $out/fig1.png and one PNG per panel ($(IFS=,; echo "${have[*]}"))"
