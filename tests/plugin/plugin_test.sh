#!/usr/bin/env bash
# Out-of-tree plugins end to end: install lrbench, build examples/plugin_attack against the installed package
# (as a user's own project would), load it with --plugin / LRBENCH_PLUGINS, run its attack through
# `lrbench eval --threat` and a suite, and check every refusal (duplicate key, ABI mismatch, no stamp,
# missing symbol, not a shared object, given twice) is one line, exit 2, nothing written.
#   tests/plugin/plugin_test.sh SOURCE_DIR BUILD_DIR WORK_DIR     (ctest: plugin_test)
set -euo pipefail
src=$(realpath "$1") build=$(realpath "$2") work=$3
rm -rf "$work" && mkdir -p "$work" && work=$(realpath "$work")
prefix=$work/prefix lrb=$work/prefix/bin/lrbench
fail() { echo "plugin_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/examples/plugin_attack" -B "$work/pgd" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/pgd" >/dev/null
so=$work/pgd/liblrbench_pgd.so
[[ -f $so ]] || fail "the example plugin did not build"

# Listed with its origin, through --plugin and through LRBENCH_PLUGINS.
"$lrb" --plugin "$so" list attacks | grep -qE '^  pgd +.*\[plugin liblrbench_pgd.so\]' || fail "pgd not listed"
LRBENCH_PLUGINS="$so" "$lrb" list attacks | grep -q '^  pgd ' || fail "LRBENCH_PLUGINS not honoured"
"$lrb" --version | grep -q 'plugin ABI: lrbench ' || fail "--version does not print the plugin ABI"

# A small trained run to attack (MLP, BP, a Fashion-MNIST slice).
"$lrb" train "$src/experiments/demo.yaml" train.epochs=1 dataset.limit_train=10000 dataset.limit_test=500 seed=0 \
  --out "$work/run" >/dev/null 2>&1 || fail "training the victim failed"
acc() { awk -F, -v m="$2" 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} $c["metric"]==m {print $c["accuracy"]; exit}' "$1"; }

# --threat: the plugin's attack, scored like a built-in one.
"$lrb" --plugin "$so" eval "$work/run" --threat pgd eval.n_examples=300 threat.eps=0.1 threat.alpha=0.02 threat.steps=10 >/dev/null
csv=$work/run/eval/pgd.csv
clean=$(acc "$csv" Ori) pgd=$(acc "$csv" PGD)
[[ -n $clean && -n $pgd ]] || fail "pgd.csv lacks Ori or PGD rows"
awk -v c="$clean" -v p="$pgd" 'BEGIN{exit !(p < c - 30)}' || fail "PGD did not attack (clean $clean, PGD $pgd)"
grep -q 'random_start=true' "$csv" || fail "PGD's settings are not in threat_params"

# In a suite next to a built-in attack: 10 steps of 0.02 (room to reach the eps corners) beat one FGSM step.
printf 'name: plugin\neval: {n_examples: 300, seed: 0}\nthreats:\n  - {name: fgsm, eps: 0.1}\n  - {name: pgd, eps: 0.1, alpha: 0.02, steps: 10}\n' \
  >"$work/suite.yaml"
"$lrb" --plugin "$so" eval "$work/run" --suite "$work/suite.yaml" >/dev/null
s=$work/run/eval/plugin.csv
fgsm=$(acc "$s" FGSM) pgd2=$(acc "$s" PGD)
awk -v f="$fgsm" -v p="$pgd2" 'BEGIN{exit !(p <= f)}' || fail "suite: PGD $pgd2 weaker than FGSM $fgsm"
echo "plugin_test: clean $clean, PGD $pgd (--threat); suite FGSM $fgsm, PGD $pgd2"

# Refusals: exit 2, one line naming the plugin, and no eval file written.
refused() {  # refused "expected text" lrbench-args...
  local want=$1 out rc=0
  shift
  rm -f "$work/run/eval/refused.csv"
  out=$("$lrb" "$@" eval "$work/run" --threat pgd --out "$work/run/eval/refused.csv" 2>&1) || rc=$?
  [[ $rc == 2 ]] || fail "exit $rc (want 2) for $*: $out"
  [[ $(wc -l <<<"$out") == 1 ]] || fail "more than one line for $*: $out"
  [[ $out == *"$want"* ]] || fail "message for $* lacks '$want': $out"
  [[ ! -e $work/run/eval/refused.csv ]] || fail "a refused run wrote its CSV ($*)"
  echo "refused as expected: $out"
}
cp "$so" "$work/copy.so"
refused "already registered by liblrbench_pgd.so" --plugin "$so" --plugin "$work/copy.so"
refused "given twice" --plugin "$so" --plugin "$so"
cp "$so" "$work/old_abi.so"
perl -pi -e 's/(lrbench )(\d)(\.\d+\.\d+; torch)/$1.($2 eq "9" ? "8" : "9").$3/e' "$work/old_abi.so"
refused "built for 'lrbench " --plugin "$work/old_abi.so"
objcopy --remove-section .lrbench_abi "$so" "$work/no_stamp.so"
refused "no lrbench ABI stamp" --plugin "$work/no_stamp.so"
printf 'namespace lrb { void function_removed_in_this_version(); }\nstatic int x = (lrb::function_removed_in_this_version(), 0);\n' \
  >"$work/missing.cpp"
# The LibTorch this build used (the torch wheel's for build-torch2), else Debian's.
torch_dir=$(sed -n 's/^Torch_DIR:PATH=//p' "$build/CMakeCache.txt")
wheel_inc=$torch_dir/../../../include  # LibTorch 2.x: torch/version.h in torch/csrc/api/include, which includes the root's
if [[ -f $wheel_inc/torch/csrc/api/include/torch/version.h ]]; then
  torch_inc=(-I"$(cd "$wheel_inc" && pwd)" -I"$(cd "$wheel_inc/torch/csrc/api/include" && pwd)")
else
  torch_inc=(-I"$(dirname "$(dirname "$(find /usr/include /usr/local/include -path '*torch/version.h' -print -quit)")")")
fi
c++ -std=c++17 -shared -fPIC -I"$prefix/include/lrbench" "${torch_inc[@]}" "$work/missing.cpp" \
  "$prefix/share/lrbench/plugin_stamp.cpp" -o "$work/missing.so"
refused "undefined symbol: lrb::function_removed_in_this_version()" --plugin "$work/missing.so"
echo "not a plugin" >"$work/text.so"
refused "not a 64-bit ELF shared object" --plugin "$work/text.so"
refused "no such file" --plugin "$work/absent.so"
LRBENCH_PLUGINS="$work/no_stamp.so" refused "no lrbench ABI stamp"
# Without the plugin, its key is simply unknown (the suggestion lists the built-in attacks).
rc=0; "$lrb" eval "$work/run" --threat pgd >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "pgd without --plugin: exit $rc, want 2"
echo "plugin_test: ok"
