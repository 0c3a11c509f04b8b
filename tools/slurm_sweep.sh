#!/usr/bin/env bash
# lrbench sweep on Slurm: the sweep's cells as one job array (task I runs `lrbench sweep … --cell I`: that cell's
# train and eval in its own run directory, skipped when already finished) and a job that depends on it and runs
# the same sweep once more (every finished cell skipped) to print and write the summary (SWEEP/summary.md,
# sweep.csv). A preempted task stops at its next step with its state saved (SIGTERM, or SIGUSR1 120 s before the
# time limit); running this script again resubmits, and the cells resume.
#   tools/slurm_sweep.sh LRBENCH EXPERIMENT.yaml [overrides, sweeps and sweep options such as --out, --suite]
#   env: CPUS_PER_TASK (default 2; threads: auto reads SLURM_CPUS_PER_TASK), SBATCH_ARGS (more sbatch options)
set -euo pipefail
lrbench=$(realpath "${1:?usage: tools/slurm_sweep.sh LRBENCH EXPERIMENT.yaml [args ...]}")
shift
command -v sbatch >/dev/null || { echo "tools/slurm_sweep.sh: sbatch not found (needs a Slurm client)" >&2; exit 2; }
cells=$("$lrbench" sweep "$@" --list)  # the grid, checked here once
dir=$(sed -n 's/^# sweep folder: //p' <<<"$cells")
n=$(grep -vc '^#' <<<"$cells")
(( n > 0 )) || { echo "tools/slurm_sweep.sh: the sweep has no cells" >&2; exit 2; }
mkdir -p "$dir/logs"
args=$(printf '%q ' "$@")
read -r -a extra <<<"${SBATCH_ARGS:-}"
cpus=${CPUS_PER_TASK:-2}
array=$(sbatch --parsable --job-name=lrbench-sweep --array="0-$((n - 1))" --cpus-per-task="$cpus" \
          --signal=B:USR1@120 --open-mode=append --output="$dir/logs/slurm-%A_%a.out" "${extra[@]}" \
          --wrap "exec $lrbench sweep $args --cell \$SLURM_ARRAY_TASK_ID")
array=${array%%;*}
summary=$(sbatch --parsable --job-name=lrbench-sweep-summary --dependency="afterany:$array" --cpus-per-task="$cpus" \
            --output="$dir/logs/slurm-%j-summary.out" "${extra[@]}" --wrap "exec $lrbench sweep $args")
summary=${summary%%;*}
grep -v '^#' <<<"$cells" | sed 's/^/  cell /'
echo "submitted the sweep: $n cells as job array $array, the summary as job $summary (after the array)"
echo "  watch: squeue -j $array,$summary    logs: $dir/logs/    index: $dir/sweep.csv"
