#!/usr/bin/env bash
# The CI regression tier: small cells of all four tables (image, text, graph and spiking models; BP, ES, LR-L and
# LR-WL; corruptions, gradient and word-substitution attacks, edge attacks, transfer) on slices of the real data,
# each table's report compared with reports/expected/regression.csv. `make test` runs it (ctest
# regression_tier); a cell outside its band fails with a table of the offending cells. Minutes on 2 cores.
#   tools/regression.sh [LRBENCH] [DIR]   env: TABLES (default table1 table2 table3 table4), SEEDS (default 1),
#                                         EXPECTED (default reports/expected/regression.csv),
#                                         UPDATE=1 rewrites EXPECTED's rows from these runs instead of checking
#                                         (tools/update_expected.sh does that, with SEEDS=3)
# Runs always start afresh (DIR/runs is removed): table.sh's resume keys on the config, not on the code, and a
# regression run exists to see what the code does now.
set -euo pipefail
lrbench=${1:-build/apps/lrbench}
dir=${2:-build/regression}
tables=${TABLES:-table1 table2 table3 table4}
expected=${EXPECTED:-reports/expected/regression.csv}
[[ ${UPDATE:-0} == 1 || -f $expected ]] ||
  { echo "tools/regression.sh: $expected: no such file (write it with tools/update_expected.sh)" >&2; exit 2; }
# Like the Makefile: the shared data folder beside the checkout, unless LRBENCH_DATA says otherwise.
if [[ -z ${LRBENCH_DATA:-} && -d ../shared/data ]]; then LRBENCH_DATA=$(cd ../shared/data && pwd); export LRBENCH_DATA; fi
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# The same float kernels on every x86-64 machine with AVX2, so CI on another CPU model computes the same cells:
# each library otherwise picks its kernels by the CPU it finds (OpenBLAS SkylakeX vs Haswell, oneDNN AVX-512 vs
# AVX2 convolutions), and a short training run turns a last-bit difference into a different accuracy.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-avx2}
export ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-AVX2} DNNL_MAX_CPU_ISA=${DNNL_MAX_CPU_ISA:-AVX2}
rm -rf "$dir/runs" "$dir/out"
mkdir -p "$dir/out"
failed=()
for t in $tables; do
  [[ -f experiments/regression/$t.txt ]] || { echo "tools/regression.sh: no experiments/regression/$t.txt" >&2; exit 2; }
  if [[ ${UPDATE:-0} == 1 ]]; then args="--update-expected $expected"; else args="--check $expected"; fi
  echo "=== regression tier: $t"
  t0=$(date +%s)
  rc=0
  PROFILE=experiments/regression/$t.txt SUITE=experiments/regression/suites/$t.yaml RUNS=$dir/runs/$t \
    OUT=$dir/out REPORT_ARGS=$args CHECK=0 bash tools/table.sh "$t" "$lrbench" >"$dir/out/$t.log" 2>&1 || rc=$?
  # The report's Markdown is in the log; what a reader of CI needs is the check's verdict and any offenders.
  awk '/^== |^   trained|^wrote .*the rows of|^tools\/|^lrbench: / {print; next}
       /^check against/ {p = 1; print; next}  p && /^  / {print; next}  {p = 0}' "$dir/out/$t.log"
  echo "    ($(( $(date +%s) - t0 )) s, log $dir/out/$t.log)"
  if [[ $rc != 0 ]]; then
    failed+=("$t")
    [[ $rc == 1 ]] || tail -5 "$dir/out/$t.log"
  fi
done
if (( ${#failed[@]} )); then
  echo "regression tier FAILED for: ${failed[*]} (expected values: $expected; a deliberate change of these numbers"
  echo "is recorded by tools/update_expected.sh, in the same commit, with the reason in its message)"
  exit 1
fi
echo "regression tier passed: $tables"
