#!/usr/bin/env bash
# APGD-CE at 100 iterations must leave accuracy <= I-FGSM's at 5 steps, at the same eps, on every image checkpoint
# of the regression tier (ctest apgd_stronger_test, after regression_tier): it is the stronger attack by
# construction (a random start, 20x the steps, step sizes that adapt, the best point kept), so an APGD cell above
# I-FGSM's means a broken attack, not a robust model. Tolerance 0 examples.
#   tests/regression/apgd_stronger.sh LRBENCH DIR     (DIR: tools/regression.sh's folder, runs in DIR/runs/<table>)
set -euo pipefail
lrbench=$1 dir=$2
out=$dir/apgd_stronger
# Like tools/regression.sh (run from the repository root): the shared data folder beside the checkout.
if [[ -z ${LRBENCH_DATA:-} && -d ../shared/data ]]; then LRBENCH_DATA=$(cd ../shared/data && pwd); export LRBENCH_DATA; fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
rm -rf "$out" && mkdir -p "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
# accuracy of the row of metric $2 in eval CSV $1 (an eval with --threat also writes the clean row, Ori)
acc() {
  awk -F, -v m="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "accuracy") c = i; if ($i == "metric") k = i }; next }
                     $k == m { print $c; found = 1; exit } END { if (!found) exit 1 }' "$1" || fail "$1: no $2 row"
}
checked=0
# table1: CIFAR-10, eps 8/255, I-FGSM step 2/255; table4: MNIST spikes, eps 0.1, step 0.02 (the tier's settings).
for spec in "table1 0.03137254901960784 0.00784313725490196" "table4 0.1 0.02"; do
  read -r t eps alpha <<<"$spec"
  for run in "$dir"/runs/"$t"/*/; do
    [[ -f $run/checkpoint.pt ]] || continue
    name=$(basename "$run")
    "$lrbench" eval "$run" --threat i-fgsm threat.eps="$eps" threat.alpha="$alpha" threat.steps=5 \
      --out "$out/$t-$name-ifgsm.csv" >"$out/$t-$name.log" 2>&1 || fail "$name: i-fgsm eval failed ($out/$t-$name.log)"
    # The tier's image checkpoints all have an input gradient: a refused eval is a failure here.
    "$lrbench" eval "$run" --threat apgd-ce threat.eps="$eps" threat.n_iter=100 \
      --out "$out/$t-$name-apgd.csv" >>"$out/$t-$name.log" 2>&1 || fail "$name: apgd-ce eval failed ($out/$t-$name.log)"
    c=$(acc "$out/$t-$name-ifgsm.csv" Ori) i=$(acc "$out/$t-$name-ifgsm.csv" I-FGSM) a=$(acc "$out/$t-$name-apgd.csv" APGD-CE)
    printf '%-8s %-20s clean %6.2f   I-FGSM(5) %6.2f   APGD-CE(100) %6.2f\n' "$t" "$name" "$c" "$i" "$a"
    # Both must have attacked: an attack that leaves clean accuracy on a model this weak is a no-op.
    awk -v a="$a" -v c="$c" 'BEGIN { exit !(a < c) }' || fail "$t/$name: APGD-CE leaves clean accuracy ($a %)"
    awk -v a="$a" -v i="$i" 'BEGIN { exit !(a <= i) }' || fail "$t/$name: APGD-CE leaves $a % > I-FGSM's $i %"
    checked=$((checked + 1))
  done
done
(( checked >= 4 )) || fail "only $checked image checkpoints found under $dir/runs/table{1,4} (run tools/regression.sh first)"
echo "APGD-CE <= I-FGSM on all $checked image checkpoints of the regression tier"
