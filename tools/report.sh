#!/usr/bin/env bash
# `make report`: re-renders the report of every table whose runs exist (what the last `make tableN` trained and
# evaluated, or the run records committed under results/runs/ by it), as OUT/<table>.csv, .md and the self-contained HTML page OUT/<table>.html. Trains nothing.
#   tools/report.sh [LRBENCH]   env: PROFILE (default quick: runs/<table>-quick), TABLES (default table1 ... table4),
#                               OUT (default results), REPORT_ARGS (more lrbench report options, e.g. --mark-paper 3)
set -euo pipefail
lrbench=${1:-build/apps/lrbench}
profile=$(basename "${PROFILE:-quick}" .txt)
out=${OUT:-results}
read -r -a extra <<<"${REPORT_ARGS:-}"
found=0 rc=0
for t in ${TABLES:-table1 table2 table3 table4}; do
  runs=runs/$t-$profile
  # Without the runs here, the records committed beside the results (tools/keep_records.sh) re-render it: those of
  # this profile, else the one profile the committed table was made with (Table 3: paper).
  [[ -d $runs ]] || runs=results/runs/$t-$profile
  if [[ ! -d $runs ]]; then
    committed=(results/runs/"$t"-*/)
    if [[ ${#committed[@]} == 1 && -d ${committed[0]} ]]; then
      runs=${committed[0]%/}
      echo "tools/report.sh: $t: no $profile runs; re-rendering the committed $runs"
    fi
  fi
  [[ -d $runs ]] || { echo "tools/report.sh: $t: no runs/$t-$profile or $runs (make $t PROFILE=$profile trains it); skipped"; continue; }
  found=1
  wall=()
  [[ -f $runs/wall_seconds ]] && wall=(--wall-seconds "$(cat "$runs/wall_seconds")")
  # The Markdown is in OUT; the terminal gets the files written, the notes, and any check with its offenders.
  # A failing check marks the exit status but the other tables are still rendered.
  "$lrbench" report "$t" "$runs" --out-dir "$out" --html "${wall[@]}" "${extra[@]}" >"$out/$t.report.log" 2>&1 || rc=$?
  awk '/^(wrote|note|lrbench): / || /^wrote / {print; next}  /^check against/ {p = 1; print; next}
       p && /^  / {print; next}  {p = 0}' "$out/$t.report.log"
  rm -f "$out/$t.report.log"
done
(( found )) || { echo "tools/report.sh: no runs/<table>-$profile folder: run make table1 (... table4) first" >&2; exit 1; }
exit $rc
