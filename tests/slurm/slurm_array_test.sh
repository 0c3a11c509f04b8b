#!/usr/bin/env bash
# ctest slurm_array_test: `make tableN LAUNCHER=slurm` against a real Slurm. Starts a private single-node cluster
# (munged with its own key and socket; slurmctld and slurmd as root, proctrack/linuxproc, no cgroups), runs a
# tiny table of 3 cells locally with tools/table.sh and as a job array with tools/slurm_table.sh, requeues one
# running task (scontrol requeue: SIGTERM, then the task runs again and resumes), and requires the array's
# report CSV to equal the local one. Exit 77 (ctest: skipped) without root or Slurm.
#   tests/slurm/slurm_array_test.sh LRBENCH WORKDIR
set -euo pipefail
lrbench=$(realpath "${1:?usage: slurm_array_test.sh LRBENCH WORKDIR}")
work=${2:?workdir}
[[ $(id -u) == 0 ]] || { echo "SKIP: starting slurmctld/slurmd/munged needs root"; exit 77; }
for p in munged slurmctld slurmd sbatch scontrol squeue; do
  command -v "$p" >/dev/null || { echo "SKIP: $p not installed (scripts/install-deps.sh installs slurm-wlm munge)"; exit 77; }
done
rm -rf "$work"
mkdir -p "$work"
work=$(realpath "$work")
chmod 700 "$work"
mkdir -p "$work"/{state,spool,log,munge}
chmod 700 "$work/munge"
fail() { echo "FAIL: $*"; for f in "$work"/log/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }
stop_cluster() {
  for f in slurmd slurmctld munged; do [[ -f $work/$f.pid ]] && kill "$(cat "$work/$f.pid")" 2>/dev/null || true; done
  return 0
}
trap stop_cluster EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
dd if=/dev/urandom of="$work/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/munge.seed"
cat >"$work/slurm.conf" <<CONF
ClusterName=lrbtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
NodeName=$host CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for i in $(seq 100); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [[ $state == idle* ]] && break
  sleep 0.2
done
[[ $state == idle* ]] || fail "the node is '$state', not idle"

# A table of 3 cells (ResNet-5 x BP, ES, LR-WL on 500 CIFAR-10 images, FGSM on 100).
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
cat >"$work/tiny.txt" <<'PROF'
models: resnet5
trainers: bp es lr-wl
* * dataset.limit_train=500 dataset.limit_test=100 train.epochs=2 train.checkpoint_every_steps=1
* es trainer.population=6
* lr-wl trainer.copies_divisor=25 dataset.limit_train=2000 train.epochs=3
eval eval.n_examples=100
PROF
printf 'name: table1\neval: {batch_size: 50}\nthreats:\n  - {name: fgsm}\n' >"$work/suite.yaml"
export PROFILE=$work/tiny.txt SUITE=$work/suite.yaml OMP_WAIT_POLICY=PASSIVE
RUNS=$work/local OUT=$work/local-results bash tools/table.sh table1 "$lrbench" >"$work/log/local.log" 2>&1 ||
  { cat "$work/log/local.log"; fail "the local run failed"; }

t0=$(date +%s)
out=$(RUNS=$work/slurm OUT=$work/slurm-results CPUS_PER_TASK=1 bash tools/slurm_table.sh table1 "$lrbench") ||
  fail "tools/slurm_table.sh: $out"
echo "$out"
array=$(sed -n 's/.*as job array \([0-9]*\),.*/\1/p' <<<"$out")
report=$(sed -n 's/.*the report as job \([0-9]*\) .*/\1/p' <<<"$out")
[[ -n $array && -n $report ]] || fail "no job ids in: $out"
# Preempt the LR-WL cell (task 2) once it has saved a resume state.
for i in $(seq 600); do
  [[ -f $work/slurm/resnet5-lr-wl-s0/resume.pt ]] && break
  sleep 0.1
done
[[ -f $work/slurm/resnet5-lr-wl-s0/resume.pt ]] || fail "task 2 never saved a resume state"
scontrol requeue "${array}_2" || fail "scontrol requeue ${array}_2"
# Slurm holds a requeued batch job back for a while (its begin time moves ~2 min ahead); a test need not wait.
for i in $(seq 100); do
  [[ $(squeue -h -j "${array}_2" -o %T 2>/dev/null) == PENDING ]] && break
  sleep 0.2
done
scontrol update JobId="${array}_2" BeginTime=now 2>/dev/null || true
for i in $(seq 1800); do
  [[ -z $(squeue -h -j "$array,$report" 2>/dev/null) ]] && break
  sleep 0.5
done
[[ -z $(squeue -h -j "$array,$report") ]] || fail "jobs still queued after 15 min: $(squeue -j "$array,$report")"
restarts=$(scontrol show job "${array}_2" | grep -o 'Restarts=[0-9]*' | head -1)
[[ $restarts == Restarts=1 ]] || fail "task 2 was not requeued ($restarts)"
grep -q "stopped by SIG" "$work"/slurm/logs/slurm-"${array}"_2.out ||
  fail "task 2's log does not show the stop: $(cat "$work"/slurm/logs/slurm-"${array}"_2.out)"
grep -q "resuming the interrupted run" "$work"/slurm/logs/slurm-"${array}"_2.out ||
  fail "task 2 did not resume: $(cat "$work"/slurm/logs/slurm-"${array}"_2.out)"
[[ -f $work/slurm-results/table1.csv ]] || fail "the report job wrote no CSV: $(cat "$work"/slurm/logs/slurm-*-report.out)"
diff "$work/local-results/table1.csv" "$work/slurm-results/table1.csv" ||
  fail "the job array's table1.csv differs from the local run's"
# One run as a 2-task Slurm step (srun: SLURM_PROCID / SLURM_NTASKS, master = the step's first node) ends where
# the same run on 2 local processes (--nproc 2) ends, byte for byte (both 1 thread per rank).
run=("$src/experiments/demo.yaml" trainer=lr-wl dataset.limit_train=1000 dataset.limit_test=100 train.epochs=1
     model.hidden=[32])
"$lrbench" train "${run[@]}" --out "$work/nproc" --nproc 2 >"$work/log/nproc.log" 2>&1 || fail "--nproc 2 run"
srun -n 2 -c 1 "$lrbench" train "${run[@]}" --out "$work/srun" >"$work/log/srun.log" 2>&1 ||
  { cat "$work/log/srun.log"; fail "srun -n 2 run"; }
grep -q "ranks 2" "$work/srun/log.txt" || fail "srun's run did not run as 2 ranks: $(cat "$work/log/srun.log")"
cmp "$work/nproc/checkpoint.pt" "$work/srun/checkpoint.pt" || fail "srun's checkpoint differs from --nproc 2's"
# lrbench sweep on Slurm (tools/slurm_sweep.sh): a 2-cell grid as a job array and a summary job; each cell's
# checkpoint equals the local sweep's.
grid=("$src/experiments/demo.yaml" 'seed=0,1' dataset.limit_train=500 dataset.limit_test=100 train.epochs=1
      model.hidden=[16] threads=1)
"$lrbench" sweep "${grid[@]}" --out "$work/sweep-local" >"$work/log/sweep-local.log" 2>&1 ||
  { cat "$work/log/sweep-local.log"; fail "the local sweep"; }
out=$(CPUS_PER_TASK=1 bash tools/slurm_sweep.sh "$lrbench" "${grid[@]}" --out "$work/sweep-slurm") ||
  fail "tools/slurm_sweep.sh: $out"
echo "$out"
ids=$(sed -n 's/.*as job array \([0-9]*\), the summary as job \([0-9]*\) .*/\1,\2/p' <<<"$out")
[[ -n $ids ]] || fail "no job ids in: $out"
for i in $(seq 1200); do
  [[ -z $(squeue -h -j "$ids" 2>/dev/null) ]] && break
  sleep 0.5
done
[[ -z $(squeue -h -j "$ids") ]] || fail "sweep jobs still queued after 10 min"
[[ $(grep -c ',finished,' "$work/sweep-slurm/sweep.csv") == 2 ]] || fail "sweep.csv: $(cat "$work/sweep-slurm/sweep.csv")"
for c in 00-seed=0 01-seed=1; do
  cmp "$work/sweep-local/$c/checkpoint.pt" "$work/sweep-slurm/$c/checkpoint.pt" || fail "sweep cell $c differs"
done
grep -q 'skipping' "$work"/sweep-slurm/logs/slurm-*-summary.out || fail "the summary job retrained a cell"
echo "PASS: lrbench sweep as a Slurm array: 2 cells equal the local sweep's, the summary job skipped them"
echo "PASS: 3 cells as a Slurm array (task 2 requeued once and resumed) in $(( $(date +%s) - t0 )) s; table1.csv equals the local run's; srun -n 2 = --nproc 2"
