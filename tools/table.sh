#!/usr/bin/env bash
# Reproduces one paper table: trains every cell (model x trainer x seed), evaluates each checkpoint under
# the table's suite, and writes the paper-shaped report: OUT/<table>.csv, .md and the HTML page .html.
#   tools/table.sh table1 [LRBENCH]     env: PROFILE=quick|paper (default quick), SEEDS=N (default 1),
#                                            RUNS=dir (default runs/<table>-<profile>), OUT=results dir,
#                                            SUITE=name|path (default <table>), EXP=experiment yaml,
#                                            CHECK=1 (compare with the profile's `check:` references, exit 1 on a
#                                            cell outside tolerance), REPORT_ARGS (more lrbench report options)
# A profile (experiments/<table>/<profile>.txt) lists the cells and the overrides each one gets:
#   models: resnet5 vgg8                          (model@dataset trains that model on another dataset than the
#                                                  experiment's: snn@mnist snn@fashion-mnist; cell snn-mnist-...;
#                                                  override lines match the whole name: snn@* or *@mnist)
#   trainers: bp es lr-l lr-wl
#   <model glob> <trainer glob> key=value ...     (later lines add to / override earlier ones)
#   eval key=value ...                            (lrbench eval overrides, e.g. eval.n_examples=2000)
#   out: results/audit                            (where its report goes when OUT is not given: a profile that must
#                                                  not replace the committed results/<table>.* names its own folder;
#                                                  default results)
#   check: results=2 paper=5 paper_metrics=Ori    (CHECK=1: compare with the committed results/<table>.csv of this
#                                                  profile, tolerance 2 pp widened to 2 x its std, and with the
#                                                  paper's numbers of the listed columns within 5 pp; each part
#                                                  may be left out)
#   match: bp                                     (matched accuracy: for every other trainer's cell, evaluate the
#                                                  snapshot of this trainer's cell of the same model and seed nearest
#                                                  its clean accuracy, within 2 pp: lrbench eval --match; the cell
#                                                  needs train.snapshot_every=N; list it first)
#   transfer: bp                                  (also score every other trainer's cell under attacks crafted on
#                                                  this trainer's cell of the same model, dataset and seed:
#                                                  lrbench eval --source, eval/<suite>.transfer.csv; list it first)
# Resumable: a cell whose run finished with the same spec hash is not retrained, an interrupted one (even
# by kill -9) continues from its last resumable state (lrbench train --resume), and an eval CSV newer
# than its checkpoint is not recomputed, so an interrupted `make table1` continues where it stopped.
# Cells one at a time (a cluster's job array, tools/slurm_table.sh):
#   tools/table.sh TABLE [LRBENCH] --cells    the cells, one per line: index (stable for a profile and SEEDS),
#                                              name, lrbench train arguments
#   tools/table.sh TABLE [LRBENCH] --cell I   trains and evaluates cell I only. SIGTERM/SIGUSR1 (Slurm's
#                                              preemption and --signal=B:USR1@T) stop its lrbench at the next
#                                              step with the state saved; inside a Slurm job the cell then
#                                              requeues itself (scontrol requeue) and resumes when it runs again
#   tools/table.sh TABLE [LRBENCH] --gather   the transfer and matched evaluations and the report, once every cell is done
set -euo pipefail
table=${1:?usage: tools/table.sh TABLE [LRBENCH] [--cells | --cell I | --gather]}
shift
lrbench=build/apps/lrbench
[[ $# -gt 0 && $1 != --* ]] && { lrbench=$1; shift; }
mode=all cell_index=
case ${1:-} in
  '') ;;
  --cells) mode=list ;;
  --gather) mode=gather ;;
  --cell) mode=cell; cell_index=${2:-}
          [[ $cell_index =~ ^[0-9]+$ ]] || { echo "tools/table.sh: --cell needs a cell index (see --cells)" >&2; exit 2; } ;;
  *) echo "tools/table.sh: unknown option '$1' (expected --cells, --cell I or --gather)" >&2; exit 2 ;;
esac
profile=${PROFILE:-quick}
seeds=${SEEDS:-1}
runs=${RUNS:-runs/$table-$(basename "$profile" .txt)}
exp=${EXP:-experiments/$table.yaml}
suite=${SUITE:-$table}
# PROFILE is a name (experiments/<table>/<name>.txt) or a path to a profile file.
if [[ -f $profile ]]; then prof=$profile; else prof=experiments/$table/$profile.txt; fi
[[ -f $exp ]] || { echo "tools/table.sh: $exp: no such experiment" >&2; exit 2; }
[[ -f $prof ]] || { echo "tools/table.sh: $prof: no such profile (known: $(ls experiments/$table | sed 's/\.txt$//' | tr '\n' ' '))" >&2; exit 2; }
out=${OUT:-$(sed -n 's/^out:[[:space:]]*//p' "$prof" | sed 's/[[:space:]]*#.*//; s/[[:space:]]*$//')}
out=${out:-results}
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "tools/table.sh: SEEDS=$seeds: expected a positive integer" >&2; exit 2; }
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

models=$(sed -n 's/^models:[[:space:]]*//p' "$prof")
trainers=$(sed -n 's/^trainers:[[:space:]]*//p' "$prof")
transfer=$(sed -n 's/^transfer:[[:space:]]*//p' "$prof" | sed 's/[[:space:]]*#.*//; s/[[:space:]]*$//')
[[ -z $transfer || " $trainers " == *" $transfer "* ]] ||
  { echo "tools/table.sh: $prof: transfer: $transfer is not one of the trainers ($trainers)" >&2; exit 2; }
match=$(sed -n 's/^match:[[:space:]]*//p' "$prof" | sed 's/[[:space:]]*#.*//; s/[[:space:]]*$//')
[[ -z $match || " $trainers " == *" $match "* ]] ||
  { echo "tools/table.sh: $prof: match: $match is not one of the trainers ($trainers)" >&2; exit 2; }
# The overrides of one cell: every profile line whose globs match, in file order; a key set again by a
# later line takes the later value (lrbench refuses a key given twice on its command line).
overrides() {
  local m=$1 t=$2 line gm gt rest kv
  local -A value=()
  local -a order=()
  while IFS= read -r line; do
    line=${line%%#*}
    [[ -z ${line// } || $line == models:* || $line == trainers:* || $line == transfer:* || $line == match:* || $line == check:* || $line == out:* ]] && continue
    read -r gm gt rest <<<"$line"
    # shellcheck disable=SC2053
    [[ $m == $gm && $t == $gt ]] || continue
    for kv in $rest; do
      [[ -v value[${kv%%=*}] ]] || order+=("${kv%%=*}")
      value[${kv%%=*}]=$kv
    done
  done <"$prof"
  for kv in "${order[@]}"; do printf '%s ' "${value[$kv]}"; done
  return 0
}

# lrbench eval overrides: the profile's `eval` lines, comments stripped.
eval_args=()
while IFS= read -r line; do
  line=${line%%#*}
  [[ $line == eval[[:space:]]* ]] && read -r -a more <<<"${line#eval}" && eval_args+=("${more[@]}")
done <"$prof"
# The suite file lrbench eval will read (a path, or experiments/suites/<name>.yaml).
find_suite_file() { if [[ -f $suite ]]; then echo "$suite"; else echo "experiments/suites/$suite.yaml"; fi; }
# An eval is current when its CSV is newer than the checkpoint and was made with the same suite file and eval
# overrides: this stamp, kept beside the CSV.
stamp="$(cat "$(find_suite_file)" 2>/dev/null | cksum) ${eval_args[*]}"
suite_csv() { echo "$1/eval/$(basename "$suite" .yaml).csv"; }  # a suite writes eval/<its name>.csv (name = file stem)

# lrbench report options: REPORT_ARGS, and with CHECK=1 the profile's `check:` references.
read -r -a report_args <<<"${REPORT_ARGS:-}"
if [[ ${CHECK:-0} == 1 ]]; then
  check=$(sed -n 's/^check:[[:space:]]*//p' "$prof" | sed 's/[[:space:]]*#.*//')
  [[ -n $check ]] || { echo "tools/table.sh: CHECK=1: $prof has no 'check:' line (what to compare this profile with)" >&2; exit 2; }
  for kv in $check; do
    case $kv in
      results=*) [[ -f $out/$table.csv ]] ||
                   { echo "tools/table.sh: CHECK=1: no committed $out/$table.csv to compare with" >&2; exit 2; }
                 report_args+=(--check "$out/$table.csv" --tolerance "${kv#results=}") ;;
      paper=*)   report_args+=(--check-paper "${kv#paper=}") ;;
      paper_metrics=*) report_args+=(--paper-metrics "${kv#paper_metrics=}") ;;
      *) echo "tools/table.sh: $prof: check: '$kv' is not results=PP, paper=PP or paper_metrics=A,B" >&2; exit 2 ;;
    esac
  done
fi

# The cells in a fixed order (seed, then model, then trainer as the profile lists them): index i is cells[i].
cells=()
for seed in $(seq 0 $((seeds - 1))); do
  for m in $models; do
    for t in $trainers; do cells+=("$seed $m $t"); done
  done
done

cell_args() {  # seed model trainer -> the lrbench train arguments of the cell
  local seed=$1 m=$2 t=$3 data=()
  [[ $m == *@* ]] && data=("dataset=${m#*@}")
  args=("$exp" "model=${m%%@*}" "${data[@]}" "trainer=$t" "seed=$seed" $(overrides "$m" "$t"))
}

# --cell runs lrbench in the background and waits, so that a trapped signal is handled at once (bash runs traps
# only between foreground commands) and passed on to lrbench, which then stops at its next step with the state
# saved. Other modes run it in the foreground: a terminal's Ctrl-C reaches it directly.
child=
stopped=
forward() { stopped=$1; [[ -n $child ]] && kill -s "$1" "$child" 2>/dev/null || true; }
run_lrbench() {  # log file, then the lrbench arguments
  local log=$1 rc=0; shift
  if [[ $mode != cell ]]; then
    "$lrbench" "$@" >>"$log" 2>&1 || rc=$?
    return $rc
  fi
  [[ -z $stopped ]] || return 1  # a stop asked for before this command: do not start it
  "$lrbench" "$@" >>"$log" 2>&1 & child=$!
  [[ -z $stopped ]] || kill -s "$stopped" "$child" 2>/dev/null || true  # asked between the start and child=$!
  while true; do
    wait "$child" && rc=0 || rc=$?
    # wait returns > 128 when a trapped signal interrupted it; the child may still run
    kill -0 "$child" 2>/dev/null || break
  done
  child=
  return $rc
}

train_and_eval() {  # seed model trainer
  local seed=$1 m=$2 t=$3
  cell=${m/@/-}-$t-s$seed
  dir=$runs/$cell
  cell_args "$seed" "$m" "$t"
  [[ -z $stopped ]] || return 0
  hash=$("$lrbench" check "${args[@]}" | sed -n 's/^# ok: spec_hash //p') || true
  [[ -n $hash ]] || { echo "tools/table.sh: $cell: config check failed: $lrbench check ${args[*]}" >&2; exit 2; }
  # A run trained by an lrbench whose config.resolved.yaml lacked the defaults states an older hash: it is the
  # same experiment when its own config resolves to today's hash.
  if [[ -f $dir/run.json && -f $dir/checkpoint.pt ]] && ! grep -q "\"spec_hash\": \"$hash\"" "$dir/run.json" &&
     ! grep -q '"config_schema"' "$dir/run.json" && [[ -f $dir/config.resolved.yaml ]] &&
     [[ $("$lrbench" check "$dir/config.resolved.yaml" 2>/dev/null | sed -n 's/^# ok: spec_hash //p') == "$hash" ]]; then
    same_run=1
  else
    same_run=0
  fi
  if [[ -f $dir/run.json && -f $dir/checkpoint.pt ]] &&
     { grep -q "\"spec_hash\": \"$hash\"" "$dir/run.json" || (( same_run )); } &&
     grep -q "\"status\": \"finished\"" "$dir/run.json"; then
    echo "== $cell: trained (spec $hash), skipping training"
  else
    # An interrupted run of this spec continues from its last resumable state; anything else starts afresh.
    resume=()
    if [[ -f $dir/config.resolved.yaml ]] && grep -q "spec_hash $hash " "$dir/config.resolved.yaml" &&
       ! grep -qsE '"status": "(failed|finished)"' "$dir/run.json"; then
      resume=(--resume)
      echo "== $cell: resuming the interrupted run (spec $hash): ${args[*]:1}"
    else
      echo "== $cell: training (spec $hash): ${args[*]:1}"
      # Never delete a run another process is working on (lrbench holds RUN/.lock while it trains or evaluates).
      if [[ -f $dir/.lock ]] && command -v flock >/dev/null && ! flock -n "$dir/.lock" true; then
        echo "tools/table.sh: $cell: $dir is in use by another lrbench process ($(cat "$dir/.lock")); wait for it" >&2
        exit 1
      fi
      rm -rf "$dir" "$runs/logs/$cell.train.log"
    fi
    t0=$(date +%s)
    local rc=0
    run_lrbench "$runs/logs/$cell.train.log" train "${args[@]}" --out "$dir" "${resume[@]}" || rc=$?
    if [[ -n $stopped ]]; then
      echo "== $cell: stopped by SIG$stopped after $(( $(date +%s) - t0 )) s (lrbench exit $rc); its state is saved"
      return 0
    fi
    (( rc == 0 )) ||
      { echo "tools/table.sh: $cell: training failed, see $runs/logs/$cell.train.log" >&2; tail -3 "$runs/logs/$cell.train.log" >&2; exit 1; }
    acc=$(grep -o '"final_test_acc": [0-9.e+-]*' "$dir/run.json" | grep -o '[0-9.e+-]*$' || true)
    echo "   trained in $(( $(date +%s) - t0 )) s${acc:+: final test accuracy $(printf '%.2f' "$acc") %}"
  fi
  csv=$(suite_csv "$dir")
  if [[ -f $csv && $csv -nt $dir/checkpoint.pt && -f $csv.stamp && $(cat "$csv.stamp") == "$stamp" ]]; then
    echo "   evaluated, skipping"
  else
    [[ -z $stopped ]] || { echo "== $cell: stopped by SIG$stopped before its evaluation"; return 0; }
    t0=$(date +%s)
    : >"$runs/logs/$cell.eval.log"
    run_lrbench "$runs/logs/$cell.eval.log" eval "$dir" --suite "$suite" "${eval_args[@]}" ||
      { [[ -n $stopped ]] && { echo "== $cell: evaluation stopped by SIG$stopped"; return 0; }
        echo "tools/table.sh: $cell: evaluation failed, see $runs/logs/$cell.eval.log" >&2; tail -3 "$runs/logs/$cell.eval.log" >&2; exit 1; }
    printf '%s' "$stamp" >"$csv.stamp"
    echo "   evaluated in $(( $(date +%s) - t0 )) s"
  fi
}

# One more evaluation of a cell (transfer, matched), skipped when OUT is current: newer than both checkpoints and
# made with the same STAMP (suite, eval overrides and the other run's spec).
#   extra_eval WHAT OUT STAMP LOG CHECKPOINT CHECKPOINT -- LRBENCH_EVAL_ARGS...
extra_eval() {
  local what=$1 result=$2 st=$3 log=$4 c1=$5 c2=$6
  shift 7
  if [[ -f $result && $result -nt $c1 && $result -nt $c2 && -f $result.stamp && $(cat "$result.stamp") == "$st" ]]; then
    echo "   $what evaluated, skipping"
    return 0
  fi
  local t0
  t0=$(date +%s)
  rm -f "$result.stamp"  # an evaluation that fails half-way must not look current to the next invocation
  "$lrbench" eval "$@" >"$log" 2>&1 ||
    { echo "tools/table.sh: $cell: $what evaluation failed, see $log" >&2; tail -3 "$log" >&2; exit 1; }
  printf '%s' "$st" >"$result.stamp"
  echo "   $what evaluated in $(( $(date +%s) - t0 )) s"
}

transfer_eval() {  # seed model trainer: score the cell under attacks crafted on the transfer source's cell
  local seed=$1 m=$2 t=$3
  [[ -n $transfer && $t != "$transfer" ]] || return 0
  cell=${m/@/-}-$t-s$seed
  dir=$runs/$cell
  csv=$(suite_csv "$dir")
  src=$runs/${m/@/-}-$transfer-s$seed
  [[ -f $src/checkpoint.pt ]] ||
    { echo "tools/table.sh: $cell: no source run $src for transfer (list $transfer first in trainers:)" >&2; exit 1; }
  extra_eval "transfer from $transfer" "${csv%.csv}.transfer.csv" \
    "$stamp source=$transfer $(grep -o '"spec_hash": "[0-9a-f]*"' "$src/run.json")" "$runs/logs/$cell.transfer.log" \
    "$dir/checkpoint.pt" "$src/checkpoint.pt" -- "$dir" --suite "$suite" --source "$src" "${eval_args[@]}"
}

matched_eval() {  # seed model trainer: the match trainer's snapshot nearest this cell's clean accuracy, evaluated
  local seed=$1 m=$2 t=$3
  [[ -n $match && $t != "$match" ]] || return 0
  cell=${m/@/-}-$t-s$seed
  dir=$runs/$cell
  base=$runs/${m/@/-}-$match-s$seed
  [[ -f $base/checkpoint.pt ]] ||
    { echo "tools/table.sh: $cell: no $match run $base to match (list $match first in trainers:)" >&2; exit 1; }
  # The choice (a snapshot, or none within 2 pp) is the base run's eval/<suite>.matched-<trainer>.json.
  local choice
  choice=$base/eval/$(basename "$suite" .yaml).matched-$t.json
  extra_eval "matched $match" "$choice" "$stamp match=$(grep -o '"spec_hash": "[0-9a-f]*"' "$dir/run.json")" \
    "$runs/logs/$cell.matched.log" "$dir/checkpoint.pt" "$base/checkpoint.pt" -- \
    "$base" --suite "$suite" --match "$dir" "${eval_args[@]}"
  if grep -q '"matched": true' "$choice"; then
    echo "   matched $match ($(grep -o '"snapshot": "[^"]*"' "$choice" | cut -d'"' -f4))"
  else
    echo "   no $match snapshot within 2 pp of its clean accuracy ($choice)"
  fi
}

report() {
  "$lrbench" report "$table" "$runs" --out-dir "$out" ${wall:+--wall-seconds "$wall"} --html "${report_args[@]}"
  # The records behind the committed results (results/ and a profile's folder under it), so `make report`
  # re-renders them anywhere (not for other OUT folders).
  if [[ $out == results || $out == results/* ]]; then bash tools/keep_records.sh "$runs" "results/runs/$(basename "$runs")"; fi
}

[[ $mode == list ]] || mkdir -p "$runs/logs"
case $mode in
  list)
    for i in "${!cells[@]}"; do
      read -r seed m t <<<"${cells[$i]}"
      cell_args "$seed" "$m" "$t"
      printf '%s %s %s\n' "$i" "${m/@/-}-$t-s$seed" "${args[*]}"
    done ;;
  cell)
    (( cell_index < ${#cells[@]} )) ||
      { echo "tools/table.sh: --cell $cell_index: $table has ${#cells[@]} cells (0 to $(( ${#cells[@]} - 1 )))" >&2; exit 2; }
    trap 'forward TERM' TERM
    trap 'forward USR1' USR1
    read -r seed m t <<<"${cells[$cell_index]}"
    train_and_eval "$seed" "$m" "$t"
    if [[ -n $stopped ]]; then
      if [[ -n ${SLURM_JOB_ID:-} ]]; then
        job=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}
        if scontrol requeue "${job:-$SLURM_JOB_ID}" 2>/dev/null; then
          echo "== cell $cell_index: requeued (${job:-$SLURM_JOB_ID})"
        elif [[ $stopped == TERM ]]; then
          # Slurm's own SIGTERM: it is requeueing (preemption, scontrol requeue) or cancelling the job itself.
          echo "== cell $cell_index: stopped by Slurm, which requeues or cancels the job"
        else
          echo "tools/table.sh: cell $cell_index: could not requeue ${job:-$SLURM_JOB_ID}; resubmit it (the state is saved)" >&2
          exit 1
        fi
      fi
      exit 0
    fi ;;
  gather)
    for c in "${cells[@]}"; do transfer_eval $c; matched_eval $c; done
    [[ -f $runs/wall_seconds ]] && wall=$(cat "$runs/wall_seconds")
    report ;;
  all)
    start=$(date +%s)
    # Training progress lines carry the table's ETA (trainers/progress.cpp): the cells left after this one at
    # the mean time of the cells that did work so far (a skipped cell takes seconds and would not count).
    export LRBENCH_TABLE=$table
    worked=0 worked_seconds=0 i=0
    for c in "${cells[@]}"; do
      i=$((i + 1))
      export LRBENCH_TABLE_CELLS_LEFT=$(( ${#cells[@]} - i ))
      (( worked > 0 )) && export LRBENCH_TABLE_CELL_SECONDS=$(( worked_seconds / worked ))
      t_cell=$(date +%s)
      train_and_eval $c; transfer_eval $c; matched_eval $c
      t_cell=$(( $(date +%s) - t_cell ))
      (( t_cell > 5 )) && worked=$((worked + 1)) worked_seconds=$((worked_seconds + t_cell))
      if (( i < ${#cells[@]} && worked > 0 )); then
        left=$(( (${#cells[@]} - i) * worked_seconds / worked ))
        printf '== %s: %d/%d cells in %d min; ETA of the table ~%d min\n' "$table" "$i" "${#cells[@]}" \
          $(( ($(date +%s) - start) / 60 )) $(( (left + 59) / 60 ))
      fi
    done
    # The wall time is kept beside the runs so that `make report` can re-render the page with it later.
    wall=$(( $(date +%s) - start ))
    printf '%s\n' "$wall" >"$runs/wall_seconds"
    report ;;
esac
