#!/usr/bin/env bash
# The regression tier must fail on a moved expected value (ctest regression_perturbed, after regression_tier):
# for each table, one cell of a copy of reports/expected/regression.csv moves by its tolerance + 1 pp; checking
# the tier's runs against the copy must exit 1 with a table naming that cell, and against the committed file 0.
#   tests/regression/perturbed.sh SRC LRBENCH DIR     (DIR: tools/regression.sh's folder, runs in DIR/runs/<table>)
set -euo pipefail
src=$1 lrbench=$2 dir=$3
expected=$src/reports/expected/regression.csv
work=$dir/perturbed
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in table1 table2 table3 table4; do
  # Move the first row of this table: its leading fields (table ... tolerance) are never quoted; the rest of the
  # line (per_seed, n, dataset, commit; the dataset caveat may be quoted) is copied as it is.
  moved=0 cell=""
  {
    IFS= read -r header && echo "$header"
    while IFS= read -r line; do
      IFS=, read -r f1 f2 f3 f4 f5 f6 f7 f8 rest <<<"$line"
      if (( !moved )) && [[ $f1 == "$t" && "$f1$f2$f3$f4$f5$f6$f7$f8" != *'"'* ]]; then
        line="$f1,$f2,$f3,$f4,$f5,$f6,$(awk -v e="$f7" -v t="$f8" 'BEGIN{printf "%.2f", e + t + 1}'),$f8,$rest"
        moved=1 cell="$f2 / $f3 / $f4"
        echo "$cell" >"$work/$t.cell"
      fi
      echo "$line"
    done
  } <"$expected" >"$work/$t.csv"
  [[ -s $work/$t.cell ]] || fail "$expected has no row of $t to move"
  cell=$(cat "$work/$t.cell")
  rc=0
  "$lrbench" report "$t" "$dir/runs/$t" --out-dir "$work/out-ok" --check "$expected" >"$work/$t.ok.log" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { cat "$work/$t.ok.log"; fail "$t: the committed expected values do not pass (exit $rc)"; }
  rc=0
  "$lrbench" report "$t" "$dir/runs/$t" --out-dir "$work/out-bad" --check "$work/$t.csv" >"$work/$t.bad.log" 2>&1 || rc=$?
  [[ $rc == 1 ]] || { cat "$work/$t.bad.log"; fail "$t: a moved expected value gave exit $rc, not 1"; }
  grep -q "^check against .*: 1 of [0-9]* cells outside" "$work/$t.bad.log" || { cat "$work/$t.bad.log"; fail "$t: no summary line"; }
  grep -qF "  $cell" "$work/$t.bad.log" || { cat "$work/$t.bad.log"; fail "$t: the offender table does not name $cell"; }
  echo "$t: moving '$cell' by tolerance + 1 fails the check:"
  sed -n '/^check against/,$p' "$work/$t.bad.log"
done
echo "PASS: every table's check fails on its moved cell and passes on the committed values"
