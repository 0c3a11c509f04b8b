#!/usr/bin/env bash
# Crash safety: each case trains once uninterrupted, then again while being killed with SIGKILL at random
# points (after a random delay once training has written a resumable state), resumed with
# `lrbench train --resume` after every kill, and finally run to the end. The resumed run's checkpoint.pt
# must be byte-identical to the uninterrupted one's. Also: --resume on a finished run does nothing and
# succeeds; on a run killed before its first state it starts over; on another spec's run it is refused.
#   tests/resume/kill_resume_test.sh SOURCE_DIR LRBENCH WORK_DIR [SEED]     (ctest: kill_resume_test)
set -euo pipefail
src=$(realpath "$1") lrb=$(realpath "$2") work=$3 seed=${4:-20261201}
rm -rf "$work" && mkdir -p "$work" && work=$(realpath "$work")
fail() { echo "kill_resume_test: FAIL: $*" >&2; exit 1; }
RANDOM=$seed  # the kill delays are random but reproducible from the seed
pid=
trap 'if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi' EXIT  # never leave a run writing into $work

# Each case: a name, then train arguments. They cover the state a resume must restore: the LR noise
# generator mid-epoch and the learned noise scales (lr-l), ES's antithetic noise, and dropout drawing from
# torch's global generator with best-val selection (GCN on Cora: one full-batch step per epoch).
cases=(
  "mlp-lr-l|$src/experiments/demo.yaml trainer=lr-l dataset.limit_train=4000 dataset.limit_test=500 train.epochs=2 train.checkpoint_every_steps=2 threads=1"
  "mlp-es|$src/experiments/demo.yaml trainer=es trainer.population=40 dataset.limit_train=2000 dataset.limit_test=500 train.epochs=2 train.checkpoint_every_steps=2 threads=1"
  "gcn-bp|$src/experiments/table3.yaml model=gcn trainer=bp train.epochs=40 device=cpu threads=1"
)
kills=3
for c in "${cases[@]}"; do
  name=${c%%|*}; read -r -a args <<<"${c#*|}"
  "$lrb" train "${args[@]}" --out "$work/$name.whole" >"$work/$name.whole.log" 2>&1 || fail "$name: the uninterrupted run failed"
  want=$(sha256sum <"$work/$name.whole/checkpoint.pt")
  dir=$work/$name.killed interrupted=0 lives=0
  for k in $(seq "$kills"); do
    before=$(stat -c %i "$dir/resume.pt" 2>/dev/null || echo none)  # every state is a new file renamed in
    born=$(date +%s.%N)
    "$lrb" train "${args[@]}" --out "$dir" --resume >>"$work/$name.killed.log" 2>&1 &
    pid=$!
    # Wait for this process to write a new state (or to finish), then let it run a random while longer.
    while kill -0 "$pid" 2>/dev/null && [[ $(stat -c %i "$dir/resume.pt" 2>/dev/null || echo none) == "$before" ]]; do
      sleep 0.05
    done
    sleep "0.$(printf '%03d' $((RANDOM % 600)))"
    if kill -9 "$pid" 2>/dev/null; then interrupted=$((interrupted + 1)); fi
    wait "$pid" 2>/dev/null || true
    lives=$(awk -v l="$lives" -v b="$born" -v d="$(date +%s.%N)" 'BEGIN { printf "%.3f", l + d - b }')
  done
  (( interrupted >= 2 )) || fail "$name: only $interrupted of $kills kills interrupted training (the case is too short)"
  born=$(date +%s.%N)
  "$lrb" train "${args[@]}" --out "$dir" --resume >>"$work/$name.killed.log" 2>&1 || fail "$name: the final resume failed"
  lives=$(awk -v l="$lives" -v b="$born" -v d="$(date +%s.%N)" 'BEGIN { printf "%.3f", l + d - b }')
  got=$(sha256sum <"$dir/checkpoint.pt")
  resumed=$(grep -c "resuming from" "$dir/log.txt" || true)  # log.txt is appended to by every resume
  [[ $got == "$want" ]] || fail "$name: checkpoint after $interrupted kills ($resumed resumes) differs from the uninterrupted run's"
  grep -q '"status": "finished"' "$dir/run.json" || fail "$name: run.json does not say finished"
  [[ ! -e $dir/resume.pt ]] || fail "$name: resume.pt left behind by a finished run"
  cmp -s <(cut -d, -f1-4 "$dir/metrics.csv") <(cut -d, -f1-4 "$work/$name.whole/metrics.csv") || fail "$name: metrics.csv differs"
  # run.json's seconds sum the processes' wall time: at least the epochs' training seconds (which carry over a
  # resume), though the last process alone ran only part of them; at most the processes' lifetimes. The upper
  # bound is loose (each process's start-up, about a second, lies outside its timed part): it catches a whole
  # process counted twice, not the few seconds of these short cases' earlier processes.
  total=$(sed -n 's/^  "seconds": \([0-9.e+-]*\),\{0,1\}$/\1/p' "$dir/run.json")
  epochs=$(awk -F, 'NR > 1 { s += $5 } END { print s + 0 }' "$dir/metrics.csv")
  awk -v t="${total:-0}" -v e="$epochs" 'BEGIN { exit !(t >= e && e > 0) }' ||
    fail "$name: run.json seconds ${total:-missing} < the epochs' ${epochs} s (a resume lost the earlier processes' time)"
  awk -v t="$total" -v l="$lives" 'BEGIN { exit !(t <= l) }' ||
    fail "$name: run.json seconds $total > the ${lives} s its processes lived (time counted twice)"
  echo "kill_resume_test: $name: $interrupted kills, $resumed resumes ($(grep "resuming from" "$dir/log.txt" | sed 's/.*: //' | paste -sd, -)), checkpoint identical"
done

# Evaluation: killed once a threat's result is kept, then run again; it reuses what was measured and writes
# the same CSV (but for the seconds column) as an uninterrupted evaluation.
run=$work/mlp-lr-l.whole suite=$src/tests/resume/suite.yaml
"$lrb" eval "$run" --suite "$suite" --out "$work/eval-whole.csv" >"$work/eval.log" 2>&1 || fail "the uninterrupted eval failed"
"$lrb" eval "$run" --suite "$suite" --out "$work/eval-killed.csv" >>"$work/eval.log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! compgen -G "$work/eval-killed.csv.parts/*.csv" >/dev/null; do sleep 0.02; done
kill -9 "$pid" 2>/dev/null || fail "the eval finished before it could be killed"
wait "$pid" 2>/dev/null || true
[[ ! -e $work/eval-killed.csv ]] || fail "a killed eval left its CSV"
out=$("$lrb" eval "$run" --suite "$suite" --out "$work/eval-killed.csv" 2>&1) || fail "the eval after the kill failed"
reused=$(grep -c "reusing" <<<"$out" || true)
(( reused >= 1 )) || fail "the eval after the kill reused nothing: $out"
# Blanks the seconds column, found by its header name and counted from the end of the row: the dataset column
# before it may hold a quoted comma.
no_seconds() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") back = NF - i } { $(NF - back) = ""; print }' \
    OFS=, "$1"
}
cmp -s <(no_seconds "$work/eval-whole.csv") <(no_seconds "$work/eval-killed.csv") || fail "the resumed eval's CSV differs"
[[ ! -e $work/eval-killed.csv.parts ]] || fail "the finished eval left its parts"
echo "kill_resume_test: eval: killed after a threat, $reused threat(s) reused, CSV identical"

# A finished run: --resume does nothing, succeeds and says so in one line.
read -r -a args <<<"${cases[2]#*|}"
out=$("$lrb" train "${args[@]}" --out "$work/gcn-bp.whole" --resume 2>&1) || fail "--resume on a finished run failed"
grep -q "has finished; nothing to resume" <<<"$out" || fail "--resume on a finished run did not say so: $out"
# Killed before its first state (only config.resolved.yaml and log.txt written): starts from the beginning.
mkdir -p "$work/early" && cp "$work/gcn-bp.whole/config.resolved.yaml" "$work/early/" && : >"$work/early/log.txt"
out=$("$lrb" train "${args[@]}" --out "$work/early" --resume 2>&1) || fail "--resume before the first state failed"
grep -q "stopped before its first resumable state; starting from the beginning" <<<"$out" || fail "no start-over line: $out"
cmp -s "$work/early/checkpoint.pt" "$work/gcn-bp.whole/checkpoint.pt" || fail "the started-over run differs"
# Another spec's run: refused with one line, exit 2.
set +e
out=$("$lrb" train "${args[@]}" seed=1 --out "$work/gcn-bp.whole" --resume 2>&1); rc=$?
set -e
[[ $rc == 2 && $(wc -l <<<"$out") == 1 && $out == *"holds a run of spec"* ]] || fail "another spec's run: rc $rc: $out"
echo "kill_resume_test: ok"
