#!/usr/bin/env bash
# A researcher's loop in miniature (ctest sweep_compare_test): a 2 x 2 sweep (trainer=bp,lr-wl x seed=range(0,2))
# with --jobs 2, an eval suite and TensorBoard event files, run twice (the second run trains and evaluates nothing), a deleted cell retrained
# alone, then two of its runs compared and the compare page opened by headless Chromium (Debian's chromium, name
# resolution off): no console message, the page's script ran to its end, both curves drawn, the tables there.
# Then the check shows it can fail (a page with a script error is rejected).
#   tests/sweep/sweep_compare_test.sh LRBENCH DIR
set -euo pipefail
lrbench=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$dir/exp.yaml" <<'YAML'
defaults: [dataset: fashion-mnist, model: mlp, trainer: lr-wl]
name: sweep-test
threads: 1
dataset: {limit_train: 600, limit_test: 200}
model: {hidden: [32]}
trainer: {copies_divisor: 4}   # lr-wl's: dropped with a warning in the trainer=bp cells
train: {epochs: 2, batch_size: 100}
YAML
cat >"$dir/suite.yaml" <<'YAML'
name: mini
eval: {n_examples: 100, batch_size: 100, seed: 0}
threats:
  - {name: gaussian, std: 0.1}
  - {name: fgsm, eps: 0.05}
YAML
sweep() { "$lrbench" sweep "$dir/exp.yaml" trainer=bp,lr-wl 'seed=range(0,2)' --out "$dir/sweep" --jobs 2 \
            --suite "$dir/suite.yaml" --tensorboard "$dir/tb" >"$dir/$1.log" 2>&1 || { tail -20 "$dir/$1.log"; fail "lrbench sweep ($1) failed"; }; }

sweep first
[[ $(grep -c ',finished,' "$dir/sweep/sweep.csv") == 4 ]] || { cat "$dir/sweep/sweep.csv"; fail "4 finished cells expected"; }
[[ $(ls -d "$dir"/sweep/0[0-3]-* | wc -l) == 4 ]] || fail "4 run directories expected"
for d in "$dir"/sweep/0[0-3]-*; do [[ -f $d/eval/mini.csv ]] || fail "$d: not evaluated"; done
grep -q 'copies_divisor .* is dropped' "$dir/first.log" || fail "the bp cells did not warn about lr-wl's key"
for d in "$dir"/sweep/0[0-3]-*; do
  [[ -n $(find "$dir/tb" -path "*/sweep/$(basename "$d")/events.out.tfevents.*" -size +100c) ]] ||
    fail "$d: no TensorBoard event file under $dir/tb"
done
echo "ok  first sweep: 4 cells trained and evaluated"
sha() { sha256sum "$dir"/sweep/0*/checkpoint.pt "$dir"/sweep/0*/eval/mini.csv | sha256sum; }
before=$(sha)

sweep second
[[ $(grep -c 'skipping' "$dir/second.log") == 4 ]] || { cat "$dir/second.log"; fail "the second run should skip 4 cells"; }
! grep -qE ': (training|evaluating|resuming)' "$dir/second.log" || { cat "$dir/second.log"; fail "the second run did work"; }
[[ $(sha) == "$before" ]] || fail "the second run changed a checkpoint or an eval CSV"
echo "ok  second sweep: every cell skipped, nothing rewritten"

rm -rf "$dir"/sweep/01-*
sweep third
[[ $(grep -c ': training' "$dir/third.log") == 1 && $(grep -c 'skipping' "$dir/third.log") == 3 ]] ||
  { cat "$dir/third.log"; fail "only the deleted cell should be retrained"; }
echo "ok  third sweep: the deleted cell alone retrained"

bp=$(ls -d "$dir"/sweep/00-*) lr=$(ls -d "$dir"/sweep/02-*)

# A typo in any cell is a config error before anything is written (exit 2, no folder).
rc=0; "$lrbench" sweep "$dir/exp.yaml" 'train.epoch=1,2' --out "$dir/typo" >"$dir/typo.log" 2>&1 || rc=$?
(( rc == 2 )) && [[ ! -e $dir/typo ]] || { cat "$dir/typo.log"; fail "a typo'd sweep: exit $rc, or it left a folder"; }
grep -q "unknown key 'epoch'" "$dir/typo.log" || { cat "$dir/typo.log"; fail "the typo is not named"; }
# A run's complete config switched to another trainer on the command line: the new trainer, said so.
"$lrbench" check "$bp/config.resolved.yaml" trainer=lr-wl >"$dir/switch.log" 2>&1 || { cat "$dir/switch.log"; fail "switch refused"; }
grep -q '^  name: lr-wl' "$dir/switch.log" && grep -q "section (bp) is replaced by trainer=lr-wl" "$dir/switch.log" ||
  { cat "$dir/switch.log"; fail "trainer=lr-wl on a bp run's config did not switch the trainer"; }
echo "ok  a typo'd sweep refused before writing; a resolved config switched to another trainer"
"$lrbench" compare "$bp" "$lr" --suite "$dir/suite.yaml" --out "$dir/cmp" >"$dir/compare.log" 2>&1 ||
  { cat "$dir/compare.log"; fail "lrbench compare failed"; }
grep -q 'trainer.name .* bp .* lr-wl' "$dir/compare.log" || { cat "$dir/compare.log"; fail "no trainer.name difference"; }
grep -qE 'FGSM eps=0.05 +[0-9.]+ \([0-9.]+\) +[0-9.]+ \([0-9.]+\)' "$dir/compare.log" ||
  { cat "$dir/compare.log"; fail "no FGSM row with retention for both runs"; }
grep -q '^| trainer.name | bp | lr-wl |' "$dir/cmp/compare.md" || fail "compare.md lacks the config difference"
echo "ok  compare: config difference, accuracy with retention, compare.md"

browser=$(command -v chromium || true)
[[ -n $browser ]] || fail "chromium not found (scripts/install-deps.sh installs Debian's chromium)"
check_page() {
  local page=$1 base=$dir/$(basename "$1" .html)
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$dir/profile" \
    --host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0 --window-size=1280,1024 \
    --dump-dom "file://$(realpath "$page")" >"$base.dom" 2>"$base.log" || { echo "chromium exited $? on $page"; return 1; }
  if grep -q 'CONSOLE' "$base.log"; then echo "console messages on $page:"; grep 'CONSOLE' "$base.log" | head -5; return 1; fi
  grep -q 'data-ready="1"' "$base.dom" || { echo "$page: the page's script did not run to its end"; return 1; }
  grep -q 'data-plots-drawn="2"' "$base.dom" || { echo "$page: the two curve plots were not drawn with a size"; return 1; }
  for id in config-diff accuracy-table time-table; do
    grep -q "id=\"$id\"" "$base.dom" || { echo "$page: no $id"; return 1; }
  done
  echo "ok  $(basename "$page"): tables and 2 plots drawn, no console message ($(wc -c <"$page") bytes)"
}
check_page "$dir/cmp/compare.html" || fail "compare.html"
sed 's|</body>|<script>undefinedFunction();</script></body>|' "$dir/cmp/compare.html" >"$dir/broken.html"
if out=$(check_page "$dir/broken.html"); then fail "a page with a script error passed: $out"; fi
echo "ok  broken.html rejected"
