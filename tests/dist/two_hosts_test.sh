#!/usr/bin/env bash
# ctest two_hosts_test: one training run over two "hosts" — two network namespaces joined by a veth pair, each
# with its own address — launched the torchrun way (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) with
# GLOO_SOCKET_IFNAME naming each side's interface, ends with the checkpoint of the same run on loopback
# (--nproc 2), byte for byte. Then the same run on two hosts that share no file system (each rank its own --out),
# stopped by SIGTERM once rank 0 saved a state and resumed: rank 1 loads the state rank 0 sends, and the run
# again ends with the loopback checkpoint. Exit 77 (ctest: skipped) without root or network namespaces.
#   tests/dist/two_hosts_test.sh LRBENCH WORKDIR
set -euo pipefail
lrbench=$(realpath "${1:?usage: two_hosts_test.sh LRBENCH WORKDIR}"); work=${2:?workdir}
[[ $(id -u) == 0 ]] || { echo "SKIP: network namespaces need root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) not installed"; exit 77; }
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"; mkdir -p "$work"
a=lrb-a-$$ b=lrb-b-$$ va=lrbva$$ vb=lrbvb$$
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a" && ip netns add "$b" || { echo "SKIP: cannot create network namespaces"; exit 77; }
ip link add "$va" type veth peer name "$vb"
ip link set "$va" netns "$a"
ip link set "$vb" netns "$b"
ip -n "$a" addr add 10.231.7.1/24 dev "$va"
ip -n "$b" addr add 10.231.7.2/24 dev "$vb"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "$va" up
ip -n "$b" link set "$vb" up

args=("$src/experiments/demo.yaml" trainer=lr-wl dataset.limit_train=20000 dataset.limit_test=200 train.epochs=1
      model.hidden=[64] threads=1 train.checkpoint_every_steps=2)
export OMP_WAIT_POLICY=PASSIVE
"$lrbench" train "${args[@]}" --out "$work/loopback" --nproc 2 >"$work/loopback.log" 2>&1 ||
  { cat "$work/loopback.log"; echo "FAIL: the loopback run"; exit 1; }
common=(WORLD_SIZE=2 LOCAL_WORLD_SIZE=1 MASTER_ADDR=10.231.7.1 MASTER_PORT=29517)
ip netns exec "$a" env "${common[@]}" RANK=0 LOCAL_RANK=0 GLOO_SOCKET_IFNAME="$va" \
  "$lrbench" train "${args[@]}" --out "$work/two-hosts" >"$work/rank0.log" 2>&1 & r0=$!
ip netns exec "$b" env "${common[@]}" RANK=1 LOCAL_RANK=0 GLOO_SOCKET_IFNAME="$vb" \
  "$lrbench" train "${args[@]}" --out "$work/two-hosts" >"$work/rank1.log" 2>&1 & r1=$!
rc0=0 rc1=0
wait $r0 || rc0=$?
wait $r1 || rc1=$?
(( rc0 == 0 && rc1 == 0 )) || { tail -5 "$work"/rank*.log; echo "FAIL: ranks exited $rc0 and $rc1"; exit 1; }
grep -q "ranks 2" "$work/two-hosts/log.txt" || { echo "FAIL: the two-host run did not run as 2 ranks"; exit 1; }
cmp "$work/loopback/checkpoint.pt" "$work/two-hosts/checkpoint.pt" ||
  { echo "FAIL: the two-host checkpoint differs from the loopback one"; exit 1; }

# No shared file system: rank 0 writes $work/host-a, rank 1 is given $work/host-b, which never holds a state.
common=(WORLD_SIZE=2 LOCAL_WORLD_SIZE=1 MASTER_ADDR=10.231.7.1 MASTER_PORT=29518)
start_ranks() {  # extra lrbench arguments
  ip netns exec "$a" env "${common[@]}" RANK=0 LOCAL_RANK=0 GLOO_SOCKET_IFNAME="$va" \
    "$lrbench" train "${args[@]}" --out "$work/host-a" "$@" >>"$work/host-a.log" 2>&1 & r0=$!
  ip netns exec "$b" env "${common[@]}" RANK=1 LOCAL_RANK=0 GLOO_SOCKET_IFNAME="$vb" \
    "$lrbench" train "${args[@]}" --out "$work/host-b" "$@" >>"$work/host-b.log" 2>&1 & r1=$!
}
start_ranks
for _ in $(seq 600); do [[ -f $work/host-a/resume.pt ]] && break; sleep 0.05; done
kill -TERM $r0 $r1 2>/dev/null || true
wait $r0 || true
wait $r1 || true
[[ -f $work/host-a/resume.pt && ! -f $work/host-a/checkpoint.pt ]] ||
  { tail -5 "$work"/host-*.log; echo "FAIL: the run was not stopped mid-epoch with a saved state"; exit 1; }
[[ ! -e $work/host-b/resume.pt ]] || { echo "FAIL: rank 1 wrote a state"; exit 1; }
start_ranks --resume
rc0=0 rc1=0
wait $r0 || rc0=$?
wait $r1 || rc1=$?
(( rc0 == 0 && rc1 == 0 )) || { tail -5 "$work"/host-*.log; echo "FAIL: resumed ranks exited $rc0 and $rc1"; exit 1; }
grep -q "resuming from" "$work/host-a/log.txt" || { echo "FAIL: rank 0 did not resume"; exit 1; }
cmp "$work/loopback/checkpoint.pt" "$work/host-a/checkpoint.pt" ||
  { echo "FAIL: the run resumed without a shared file system differs from the loopback one"; exit 1; }
echo "PASS: 2 ranks in 2 network namespaces (10.231.7.1 and .2 over a veth pair) = the loopback run, byte for byte;"
echo "      also when stopped and resumed with no shared file system (rank 1 loads the state rank 0 sends)"
