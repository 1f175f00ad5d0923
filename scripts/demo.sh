#!/bin/sh
# make demo: the Get Started walkthrough of cellman(8), for real, under a
# scratch CELLMAN_PREFIX that is torn down afterwards (also on failure).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
export PATH="$top/build:$PATH"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if [ "$(id -u)" != 0 ]; then
	echo "demo: cells need root (namespaces, mounts, cgroup-BPF); run: sudo make demo" >&2
	exit 1
fi
command -v busybox >/dev/null || { echo "demo: busybox is missing (make deps installs it)" >&2; exit 1; }

CELLMAN_PREFIX=$(mktemp -d /tmp/cells-demo.XXXXXX)
export CELLMAN_PREFIX
unset CELLMAN_DSL_DIR CELLS_DRIVER

teardown() {
	trap '' PIPE
	exec 1>&2 # stdout may be a closed pipe by now
	step "teardown"
	cellman cell stop --all >/dev/null 2>&1
	# Refuse to delete anything while a mount remains under the prefix.
	if grep -q " $CELLMAN_PREFIX" /proc/self/mountinfo; then
		echo "demo: mounts remain under $CELLMAN_PREFIX; left in place:" >&2
		grep " $CELLMAN_PREFIX" /proc/self/mountinfo | awk '{print "  " $5}' >&2
		return
	fi
	rm -rf "$CELLMAN_PREFIX"
	echo "removed $CELLMAN_PREFIX"
}
trap teardown EXIT
# A closed pipe (make demo | head) or a hangup must still tear down.
trap 'exit 130' INT TERM HUP PIPE

step "1. bootstrap a runtime under $CELLMAN_PREFIX"
run cellman system bootstrap || exit 1

step "2. declare a volume, a cell and its apply in $CELLMAN_PREFIX/etc/cellman"
cp examples/demo/*.lua "$CELLMAN_PREFIX/etc/cellman/"
for f in "$CELLMAN_PREFIX"/etc/cellman/*.lua; do echo "--- $(basename "$f")"; cat "$f"; done

step "3. preview the drift (exit 2 means drift)"
run cellman apply --dry-run --all; rc=$?
echo "exit status: $rc"
[ "$rc" = 2 ] || { echo "demo: expected exit status 2" >&2; exit 1; }

step "4. converge"
run cellman apply --all || exit 1
run busybox wget -q -O - http://127.0.0.1:8080/ || { echo "demo: the page is not served" >&2; exit 1; }

step "5. converged: nothing to do"
run cellman apply --dry-run --all; rc=$?
echo "exit status: $rc"
[ "$rc" = 0 ] || { echo "demo: expected exit status 0" >&2; exit 1; }

step "6. operate"
run cellman cell list --view compact
run cellman cell show demo-web --view merged
run cellman volume list --view merged
sleep 2 # let the per-second counters fill
run cellman cell list --view runtime -T -H -o name,state,running,cid,procs,cpu1s,cpu10s,memory,age
run cellman cell shell demo-web ps
run cellctl stats -P
