#!/usr/bin/env bash
# Writes the regression tier's expected values, reports/expected/regression.csv, and its provenance,
# reports/expected/regression.md. The only writer of both: never edit them by hand.
# Runs the tier (tools/regression.sh) with SEEDS seeds; per cell the expected value is seed 0's (the seed CI runs;
# on CPU a cell is deterministic) and the tolerance is the measured seed-to-seed spread (max - min over the
# seeds), at least one example (100/n pp). A deliberate change of the numbers reruns this in the same commit.
#   tools/update_expected.sh [LRBENCH]     env: SEEDS (default 3), TABLES (default all four: a subset keeps the
#                                          other tables' rows), DIR (runs; default build/regression-expected)
set -euo pipefail
lrbench=${1:-build/apps/lrbench}
seeds=${SEEDS:-3}
tables=${TABLES:-table1 table2 table3 table4}
dir=${DIR:-build/regression-expected}
[[ $seeds =~ ^[0-9]+$ ]] && (( seeds >= 2 )) ||
  { echo "tools/update_expected.sh: SEEDS=$seeds: the band needs at least 2 seeds (3 recommended)" >&2; exit 2; }
[[ -x $lrbench ]] || { echo "tools/update_expected.sh: $lrbench: no such program (make build first)" >&2; exit 2; }
out=reports/expected/regression.csv
mkdir -p reports/expected "$dir"
# Written beside the final files and renamed only when every table succeeded: nothing half-written.
tmp=$dir/regression.csv.new
rm -f "$tmp"
[[ -f $out ]] && cp "$out" "$tmp"
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
command="SEEDS=$seeds TABLES=\"$tables\" tools/update_expected.sh $lrbench"
t0=$(date +%s)
SEEDS=$seeds TABLES=$tables UPDATE=1 EXPECTED=$tmp bash tools/regression.sh "$lrbench" "$dir"
{
  echo "# Expected values of the regression tier (reports/expected/regression.csv)"
  echo
  echo "Written by \`tools/update_expected.sh\`; never edited by hand. \`make test\` (ctest \`regression_tier\`) runs"
  echo "the tier with seed 0 and fails on any cell outside \`expected ± tolerance\`."
  echo
  echo "- commit: $commit"
  echo "- command: \`$command\`"
  echo "- tables updated: $tables (rows of other tables are kept as they were)"
  echo "- lrbench: $("$lrbench" --version | head -1)"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "- seeds: 0 … $((seeds - 1)); expected = seed 0's value; tolerance = max(max − min over the seeds, 100/n), rounded up to 0.01 pp"
  echo "- wall time: $(( $(date +%s) - t0 )) s"
} >"$dir/regression.md.new"
mv "$tmp" "$out"
mv "$dir/regression.md.new" reports/expected/regression.md
echo "wrote $out ($(($(wc -l <"$out") - 1)) cells) and reports/expected/regression.md"
