#!/usr/bin/env bash
# `make report`: re-renders the report of every table whose runs exist (what the last `make tableN` trained and
# evaluated, or the run records committed under results/runs/ by it), as OUT/<table>.csv, .md and the self-contained HTML page OUT/<table>.html. Trains nothing.
#   tools/report.sh [LRBENCH]   env: PROFILE (default quick: runs/<table>-quick), TABLES (default table1 ... table4),
#                               OUT (default: the profile's `out:` folder, else results), REPORT_ARGS (more lrbench
#                               report options, e.g. --mark-paper 3)
# PROFILE=all re-renders every committed profile's records (results/runs/<table>-<profile>), each into its own folder.
set -euo pipefail
lrbench=${1:-build/apps/lrbench}
profile=$(basename "${PROFILE:-quick}" .txt)
read -r -a extra <<<"${REPORT_ARGS:-}"
# A profile's report folder: OUT, else its `out:` line (experiments/<table>/<profile>.txt), else results.
out_of() {
  local o=${OUT:-}
  [[ -n $o || ! -f experiments/$1/$2.txt ]] ||
    o=$(sed -n 's/^out:[[:space:]]*//p' "experiments/$1/$2.txt" | sed 's/[[:space:]]*#.*//; s/[[:space:]]*$//')
  echo "${o:-results}"
}
[[ $profile != all || -z ${OUT:-} ]] ||
  { echo "tools/report.sh: PROFILE=all renders each profile into its own folder; leave OUT unset" >&2; exit 2; }
found=0 rc=0
todo=()
for t in ${TABLES:-table1 table2 table3 table4}; do
  if [[ $profile == all ]]; then
    for r in results/runs/"$t"-*/; do [[ -d $r ]] && r=${r%/} && todo+=("$t ${r#results/runs/$t-} $r"); done
    continue
  fi
  runs=runs/$t-$profile p=$profile
  # Without the runs here, the records committed beside the results (tools/keep_records.sh) re-render it: those of
  # this profile, else the one profile whose report is the committed results/<table>.* (Table 3: paper).
  [[ -d $runs ]] || runs=results/runs/$t-$profile
  if [[ ! -d $runs ]]; then
    main=()
    for r in results/runs/"$t"-*/; do
      r=${r%/}
      [[ -d $r && $(OUT='' out_of "$t" "${r#results/runs/$t-}") == results ]] && main+=("$r")
    done
    if [[ ${#main[@]} == 1 ]]; then
      runs=${main[0]} p=${runs#results/runs/$t-}
      echo "tools/report.sh: $t: no $profile runs; re-rendering the committed $runs"
    fi
  fi
  [[ -d $runs ]] || { echo "tools/report.sh: $t: no runs/$t-$profile or $runs (make $t PROFILE=$profile trains it); skipped"; continue; }
  todo+=("$t $p $runs")
done
for job in "${todo[@]}"; do
  read -r t p runs <<<"$job"
  out=$(out_of "$t" "$p")
  mkdir -p "$out"
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
