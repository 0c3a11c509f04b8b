#!/usr/bin/env bash
# The HTML report in a real browser (ctest html_chromium_test, after regression_tier): each table's page, rendered
# from the regression tier's runs, is opened by headless Chromium (Debian's chromium) with name resolution off.
# A page passes when the browser logged no console message (errors, failed script), the page's own script ran
# to its end (body data-ready), the results table is there, and every plot was laid out with a size and a drawn
# path (body data-plots-drawn = number of <svg>). Then the test shows it can fail: a page with a script error
# and a page whose script never ran are both rejected.
#   tests/html/html_chromium_test.sh SRC LRBENCH DIR     (DIR: tools/regression.sh's folder, runs in DIR/runs/<table>)
set -euo pipefail
src=$1 lrbench=$2 dir=$3
work=$dir/html
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || true)
[[ -n $browser ]] || fail "chromium not found (scripts/install-deps.sh installs Debian's chromium)"

# check_page PAGE MIN_SVG [MIN_SWEEP]: 0 when the page passes; prints why not.
check_page() {
  local page=$1 min_svg=$2 min_sweep=${3:-0} base=$work/$(basename "$1" .html)
  # --no-sandbox: CI runs as root. MAP * ~NOTFOUND: a page that reached for the network would fail to load it.
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
    --host-resolver-rules='MAP * ~NOTFOUND' --enable-logging=stderr --v=0 --window-size=1280,1024 \
    --dump-dom "file://$(realpath "$page")" >"$base.dom" 2>"$base.log" || { echo "chromium exited $? on $page"; return 1; }
  if grep -q 'CONSOLE' "$base.log"; then
    echo "console messages on $page:"; grep 'CONSOLE' "$base.log" | head -5; return 1
  fi
  grep -q 'data-ready="1"' "$base.dom" || { echo "$page: the page's script did not run to its end"; return 1; }
  grep -q 'id="results-table"' "$base.dom" || { echo "$page: no results table"; return 1; }
  local rows svgs sweeps drawn external
  rows=$(grep -o 'class="ours"' "$base.dom" | wc -l)
  sweeps=$(grep -o '<figure class="plot sweep"><svg' "$base.dom" | wc -l)
  svgs=$(grep -o '<svg' "$base.dom" | wc -l)
  drawn=$(grep -o 'data-plots-drawn="[0-9]*"' "$base.dom" | grep -o '[0-9]*' || echo 0)
  (( rows > 0 )) || { echo "$page: the results table has no result"; return 1; }
  (( svgs >= min_svg )) || { echo "$page: $svgs plots, expected at least $min_svg"; return 1; }
  (( sweeps >= min_sweep )) || { echo "$page: $sweeps sweep plots, expected at least $min_sweep"; return 1; }
  (( drawn == svgs )) || { echo "$page: $drawn of $svgs plots were drawn with a size"; return 1; }
  external=$(grep -oE "(src|href)=[\"'][^#\"'][^\"']*" "$page" | head -3 || true)
  [[ -z $external ]] || { echo "$page: refers to files outside the page: $external"; return 1; }
  echo "ok  $(basename "$page"): $rows results, $svgs plots ($sweeps sweep) drawn, no console message ($(wc -c <"$page") bytes)"
}

for t in table1 table2 table3 table4; do
  [[ -d $dir/runs/$t ]] || fail "$dir/runs/$t: no regression runs (ctest runs regression_tier first)"
  "$lrbench" report "$t" "$dir/runs/$t" --out-dir "$work/$t" --html >"$work/$t.report.log" 2>&1 ||
    { tail -3 "$work/$t.report.log"; fail "lrbench report $t --html failed"; }
  # Curves for every (model, algorithm) need two plots each; the tier's table 3 also sweeps the edge rate (its
  # table 1 has no eps sweep: experiments/regression/suites/table1.yaml says why).
  min_sweep=0
  [[ $t == table3 ]] && min_sweep=2
  check_page "$work/$t/$t.html" 2 "$min_sweep" || fail "$t.html"
  # Table 2's text attacks carry TextAttack's summary (success rate, words changed, queries) beside accuracy.
  if [[ $t == table2 ]]; then
    grep -q 'id="text-attacks"' "$work/$t.dom" || fail "table2.html: no TextAttack summary table"
    grep -q '| PWWS |' "$work/$t/$t.md" || fail "table2.md: no TextAttack summary row for PWWS"
  fi
done

# The test must be able to fail.
page=$work/table3/table3.html
sed 's|</body>|<script>undefinedFunction();</script></body>|' "$page" >"$work/broken-script.html"
if out=$(check_page "$work/broken-script.html" 2); then fail "a page with a script error passed: $out"; fi
grep -q 'undefinedFunction' <<<"$out" || fail "the script error was not the reason: $out"
echo "ok  broken-script.html rejected: $(head -2 <<<"$out" | tail -1)"
sed 's|data-ready|data-unready|g' "$page" >"$work/no-script.html"
if out=$(check_page "$work/no-script.html" 2); then fail "a page whose script did not finish passed: $out"; fi
echo "ok  no-script.html rejected: $out"
echo "html_chromium_test passed"
