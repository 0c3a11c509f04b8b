#!/usr/bin/env bash
# make tableN LAUNCHER=slurm: submits a paper table to Slurm as one job array (one task per cell: train +
# evaluate, tools/table.sh --cell I) and a job that depends on it (transfer evaluations + the report,
# tools/table.sh --gather). Run from the repository root on a login node; the same variables as tools/table.sh
# (PROFILE, SEEDS, RUNS, OUT, SUITE, EXP, CHECK) reach the jobs through sbatch's environment.
#   tools/slurm_table.sh TABLE [LRBENCH]     env: CPUS_PER_TASK (default 2; each cell's lrbench uses them all,
#                                            threads: auto reads SLURM_CPUS_PER_TASK), SBATCH_ARGS (more sbatch
#                                            options, e.g. "--partition=cpu --time=4:00:00")
# A preempted or time-limited cell stops at its next step with its state saved (SIGTERM, or SIGUSR1 120 s
# before the limit through --signal), requeues itself and resumes; cells already done are skipped when the
# array runs again.
set -euo pipefail
table=${1:?usage: tools/slurm_table.sh TABLE [LRBENCH]}
lrbench=${2:-build/apps/lrbench}
command -v sbatch >/dev/null || { echo "tools/slurm_table.sh: sbatch not found (LAUNCHER=slurm needs a Slurm client)" >&2; exit 2; }
cells=$(bash tools/table.sh "$table" "$lrbench" --cells)
n=$(printf '%s\n' "$cells" | grep -c .)
(( n > 0 )) || { echo "tools/slurm_table.sh: $table has no cells" >&2; exit 2; }
runs=${RUNS:-runs/$table-$(basename "${PROFILE:-quick}" .txt)}
mkdir -p "$runs/logs"
cpus=${CPUS_PER_TASK:-2}
read -r -a extra <<<"${SBATCH_ARGS:-}"
array=$(sbatch --parsable --job-name="lrbench-$table" --array="0-$((n - 1))" --cpus-per-task="$cpus" --requeue \
          --signal=B:USR1@120 --open-mode=append --output="$runs/logs/slurm-%A_%a.out" "${extra[@]}" \
          --wrap "exec bash tools/table.sh $table $lrbench --cell \$SLURM_ARRAY_TASK_ID")
array=${array%%;*}
report=$(sbatch --parsable --job-name="lrbench-$table-report" --dependency="afterok:$array" --cpus-per-task="$cpus" \
           --output="$runs/logs/slurm-%j-report.out" "${extra[@]}" --wrap "exec bash tools/table.sh $table $lrbench --gather")
report=${report%%;*}
printf '%s\n' "$cells" | sed 's/^/  cell /'
echo "submitted $table: $n cells as job array $array, the report as job $report (after every cell succeeded)"
echo "  watch: squeue -j $array,$report    logs: $runs/logs/slurm-${array}_*.out    results: ${OUT:-results}/$table.*"
