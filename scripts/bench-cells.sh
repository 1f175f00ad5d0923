#!/bin/sh
# bench-cells.sh: the cost of one cell, side by side in one run.
#  1. median time of `cellctl create` + `cellctl exec <cell> /bin/true` +
#     `cellctl destroy`, of `crun run` of the same /bin/true on the same
#     root, and of a bare `unshare -fpmiu chroot <root> /bin/true`;
#  2. the host memory (RSS, PSS from /proc/<holder>/smaps_rollup) of one
#     idle cell, the PSS per cell with ten idle cells, and the first cell's
#     memory again after IDLE_WAIT (150) seconds.
# Needs root, busybox, crun, hyperfine, jq. Scratch state lives in a
# temporary CELLMAN_PREFIX; everything is removed at the end.
# Targets (DESIGN/issue 3): cells <= 0.5 x crun, <= 3 MB per idle cell.
# The floor line shows what three cellctl starts cost before any work.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}

if [ "$(id -u)" != 0 ]; then
	echo "bench-cells: skipped: needs root" >&2
	exit 0
fi
for t in busybox crun hyperfine jq unshare; do
	command -v $t >/dev/null 2>&1 || { echo "bench-cells: skipped: $t missing" >&2; exit 0; }
done

scratch=$(mktemp -d /tmp/cells-bench.XXXXXX)
export CELLMAN_PREFIX=$scratch/prefix
cellctl=$scratch/cellctl
cleanup() {
	for c in $("$cellctl" list -T -H 2>/dev/null | cut -f2); do
		"$cellctl" destroy "$c" >/dev/null 2>&1 || true
	done
	rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

# The binary measured is $CELLCTL when set (to compare builds), else a
# fresh build of this tree with `make build`'s flags (a build/cellctl left
# from an earlier commit would measure old code).
if [ -n "${CELLCTL:-}" ]; then
	cp "$CELLCTL" "$cellctl"
else
	CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$cellctl" ./bin/cellctl
fi

# The root: busybox, its libraries, /bin/true (busybox's applet).
root=$scratch/root
mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/sys" "$root/tmp" "$root/etc"
bb=$(command -v busybox)
cp "$bb" "$root/bin/busybox"
for lib in $(ldd "$bb" 2>/dev/null | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp "$lib" "$root$lib"
done
ln -s busybox "$root/bin/true"
ln -s busybox "$root/bin/sh"

# crun's bundle: its own default spec, adjusted to run /bin/true on the
# same root without a terminal and, like a cell, on the host's network.
bundle=$scratch/bundle
mkdir -p "$bundle"
(cd "$bundle" && crun spec)
jq --arg root "$root" '.process.terminal=false | .process.args=["/bin/true"] | .root.path=$root
	| .linux.namespaces |= map(select(.type!="network"))' "$bundle/config.json" >"$bundle/c.json"
mv "$bundle/c.json" "$bundle/config.json"

sync
"$cellctl" list >/dev/null # creates the state directory

cells_cmd="sh -c '$cellctl create -n bench $root >/dev/null && $cellctl exec bench /bin/true && $cellctl destroy bench'"
unshare_cmd="sh -c 'unshare -fpmiu chroot $root /bin/true'"
crun_cmd="sh -c 'crun --cgroup-manager=disabled run -b $bundle cells-bench'"
# The floor of any three-command cycle: the same shell starting cellctl
# three times to do nothing (an unknown command: usage, exit 1). This is
# what the Go runtime's start costs on this machine, before any work.
floor_cmd="sh -c '$cellctl nop 2>/dev/null; $cellctl nop 2>/dev/null; $cellctl nop 2>/dev/null; true'"

median() { jq -r '.results[0].median * 1000 | . * 10 | round / 10' "$1"; }

echo "== create + exec /bin/true + destroy: median of $RUNS runs (ms)"
hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$scratch/cells.json" "$cells_cmd" >/dev/null
hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$scratch/unshare.json" "$unshare_cmd" >/dev/null
hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$scratch/floor.json" "$floor_cmd" >/dev/null
# crun refuses hybrid cgroups ("drop all controllers from cgroupv2") even
# with --cgroup-manager=disabled: it runs in a private mount namespace in
# which the v2 mount is hidden (so it measures crun without any cgroup
# work, while cells do make one).
unshare -m sh -c "mount --make-rprivate / && { ! mountpoint -q /sys/fs/cgroup/unified || mount -t tmpfs none /sys/fs/cgroup/unified; } &&
	hyperfine -N --style none --warmup 3 --runs $RUNS --export-json $scratch/crun.json \"$crun_cmd\" >/dev/null"
c=$(median "$scratch/cells.json")
r=$(median "$scratch/crun.json")
u=$(median "$scratch/unshare.json")
f=$(median "$scratch/floor.json")
printf '  cellctl create+exec+destroy %8s ms\n' "$c"
printf '  crun run                    %8s ms\n' "$r"
printf '  unshare -fpmiu + chroot     %8s ms\n' "$u"
printf '  3 x cellctl doing nothing   %8s ms (the floor of three commands)\n' "$f"
printf '  cells / crun                %8s   (target <= 0.5)\n' "$(echo "$c $r" | awk '{printf "%.2f", $1/$2}')"
printf '  floor / crun                %8s\n' "$(echo "$f $r" | awk '{printf "%.2f", $1/$2}')"
# The same life cycle through the Go API, without three CLI start-ups
# (BenchmarkCreateExecDestroy in kernel/, mean of $RUNS).
g=$(go test -run '^$' -bench BenchmarkCreateExecDestroy -benchtime "${RUNS}x" -count 1 ./kernel/ 2>/dev/null |
	awk '/^BenchmarkCreateExecDestroy/{printf "%.1f", $3/1e6}')
printf '  driver API (one process)    %8s ms (mean)\n' "${g:-n/a}"

echo "== memory of idle cells (kB)"
state=$CELLMAN_PREFIX/var/cellman/state/kernel/cells
holder() { jq -r .holder_pid "$state/$1.json"; }
id=$("$cellctl" create -n idle0 "$root" | awk '{print $2}')
sleep 3
pid=$(holder "$id")
rss=$(awk '/^Rss:/{print $2}' /proc/$pid/smaps_rollup)
pss=$(awk '/^Pss:/{print $2}' /proc/$pid/smaps_rollup)
anon=$(awk '/^Anonymous:/{print $2}' /proc/$pid/smaps_rollup)
printf '  one idle cell: RSS %s  PSS %s  anonymous %s   (target <= 3072)\n' "$rss" "$pss" "$anon"
ids=$id
for i in 1 2 3 4 5 6 7 8 9; do
	ids="$ids $("$cellctl" create -n idle$i "$root" | awk '{print $2}')"
done
sleep 3
total=0
for i in $ids; do
	p=$(awk '/^Pss:/{print $2}' /proc/$(holder "$i")/smaps_rollup)
	total=$((total + p))
done
printf '  ten idle cells: PSS %s in all, %s per cell\n' "$total" "$((total / 10))"
# The same first cell after IDLE_WAIT seconds more of idling (default 150;
# 0 skips): the holder's memory must not creep.
wait=${IDLE_WAIT:-150}
if [ "$wait" -gt 0 ]; then
	sleep "$wait"
	rss=$(awk '/^Rss:/{print $2}' /proc/$pid/smaps_rollup)
	pss=$(awk '/^Pss:/{print $2}' /proc/$pid/smaps_rollup)
	anon=$(awk '/^Anonymous:/{print $2}' /proc/$pid/smaps_rollup)
	printf '  one idle cell after %s s more: RSS %s  PSS %s  anonymous %s\n' "$wait" "$rss" "$pss" "$anon"
fi
