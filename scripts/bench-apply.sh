#!/bin/sh
# bench-apply.sh: a converged no-op `cellman apply --all` over CELLS (50)
# running cells with the real Linux driver (issue 5, target <= 2 s).
#  1. bootstraps a scratch CELLMAN_PREFIX (cellman system bootstrap) and
#     declares CELLS autostart cells: profile high, a supervised
#     `exec sleep 100000`, healthcheck `true`, an apply of 5 actions (dir,
#     file, line, symlink, exec of `true`);
#  2. converges them with one `cellman apply --all` (timed once);
#  3. reports the median of RUNS (5) no-op `cellman apply --all` runs, each
#     of which must exit 0; afterwards the dry run must find nothing to do
#     and every cell must still be the same kernel cell (none restarted);
#  4. for scale, the median time of CELLS in-cell execs of `/bin/sh -c
#     true` through cellctl, one after the other (each also a cellctl
#     start and a kernel list to find the cell);
#  5. stops every cell and checks that no cell, mount or process of the
#     scratch binaries is left (also on failure: trap).
# Needs root and hyperfine; skips itself otherwise.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
CELLS=${CELLS:-50}

if [ "$(id -u)" != 0 ]; then
	echo "bench-apply: skipped: needs root" >&2
	exit 0
fi
command -v hyperfine >/dev/null 2>&1 || { echo "bench-apply: skipped: hyperfine missing" >&2; exit 0; }

scratch=$(mktemp -d /tmp/cells-bench-apply.XXXXXX)
export CELLMAN_PREFIX=$scratch/prefix
unset CELLS_DRIVER CELLMAN_DSL_DIR
cellman=$scratch/cellman
cellctl=$scratch/cellctl
dsl=$CELLMAN_PREFIX/etc/cellman

# leftovers prints what an aborted or finished run left behind: kernel
# cells, mounts under the scratch directory, processes of its binaries.
leftovers() {
	"$cellctl" list -T -H 2>/dev/null | sed 's/^/cell: /' || true
	grep -F " $scratch/" /proc/self/mountinfo | awk '{ print "mount: " $5 }' || true
	for e in /proc/[0-9]*/exe; do
		case $(readlink "$e" 2>/dev/null) in
		"$cellman" | "$cellctl" | "$cellman (deleted)" | "$cellctl (deleted)")
			pid=${e#/proc/}
			echo "process: ${pid%/exe}"
			;;
		esac
	done
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	if [ -x "$cellman" ]; then
		"$cellman" cell stop --all >/dev/null 2>&1 || rc=1
	fi
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "bench-apply: cleanup: left behind after stop --all:" >&2
		echo "$left" >&2
		# Remove what this run started: its cells, then its processes by
		# pid, then its mounts (deepest first).
		for c in $("$cellctl" list -T -H 2>/dev/null | cut -f2); do
			"$cellctl" destroy "$c" >/dev/null 2>&1 || true
		done
		for p in $(leftovers | sed -n 's/^process: //p'); do
			kill -9 "$p" 2>/dev/null || true
		done
		for m in $(grep -F " $scratch/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r); do
			umount -l "$m" 2>/dev/null || true
		done
		rc=1
	else
		echo "bench-apply: cleanup: no cell, mount or process left"
	fi
	rm -rf "$scratch"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The binaries measured are $CELLMAN / $CELLCTL when set, else fresh
# builds of this tree with `make build`'s flags.
if [ -n "${CELLMAN:-}" ]; then cp "$CELLMAN" "$cellman"; else
	CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$cellman" ./bin/cellman
fi
if [ -n "${CELLCTL:-}" ]; then cp "$CELLCTL" "$cellctl"; else
	CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$cellctl" ./bin/cellctl
fi

if ! "$cellman" system bootstrap >"$scratch/bootstrap.out" 2>&1; then
	echo "bench-apply: skipped: cannot bootstrap a base here:" >&2
	tail -3 "$scratch/bootstrap.out" >&2
	exit 0
fi

mkdir -p "$dsl"
i=0
while [ $i -lt "$CELLS" ]; do
	n=$(printf 'bench%02d' $i)
	cat >"$dsl/$n.lua" <<EOF
cell("$n", {
  autostart = true,
  create = { profile = "high" },
  supervise = { cmd = "exec sleep 100000" },
  healthcheck = "true",
})
apply("$n", {
  dir("/srv/www", { mode = "0755" }),
  file("/srv/www/index.html", "hello {{ cell_name }}\n", { mode = "0644" }),
  line("/etc/hosts", "127.0.0.1 $n"),
  symlink("/srv/www", "/var/www"),
  exec("true"),
})
EOF
	i=$((i + 1))
done

load() { cut -d' ' -f1-3 /proc/loadavg; }
ms() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.0f", (e - s) / 1e6 }'; }

echo "bench-apply: $CELLS autostart cells (profile high, supervised sleep, healthcheck, 5 actions), real Linux driver"
s=$(date +%s%N)
if ! "$cellman" apply --all --silent >"$scratch/converge.out" 2>&1; then
	echo "bench-apply: converging apply --all failed:" >&2
	tail -5 "$scratch/converge.out" >&2
	exit 1
fi
e=$(date +%s%N)
echo "bench-apply: converging apply --all: $(ms "$s" "$e") ms (load average $(load))"

ids() { "$cellctl" list -T -H | cut -f1,2 | sort; }
ids >"$scratch/ids.before"
running=$(wc -l <"$scratch/ids.before")
if [ "$running" -ne "$CELLS" ]; then
	echo "bench-apply: $running kernel cells after converging, want $CELLS" >&2
	exit 1
fi

median_ms() { tr -d ' \n' <"$1" | sed 's/.*"median":\([0-9.e-]*\).*/\1/' | awk '{ printf "%.0f", $1 * 1000 }'; }
mean_cpu_ms() {
	u=$(tr -d ' \n' <"$1" | sed 's/.*"user":\([0-9.e-]*\).*/\1/')
	s=$(tr -d ' \n' <"$1" | sed 's/.*"system":\([0-9.e-]*\).*/\1/')
	awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", (u + s) * 1000 }'
}

# hyperfine fails on a non-zero exit status: every no-op run must exit 0.
la=$(load)
hyperfine -N --style none -r "$RUNS" --export-json "$scratch/noop.json" \
	"$cellman apply --all --silent" >/dev/null
ids >"$scratch/ids.after"
if ! cmp -s "$scratch/ids.before" "$scratch/ids.after"; then
	echo "bench-apply: the no-op applies changed the kernel cells:" >&2
	diff "$scratch/ids.before" "$scratch/ids.after" >&2 || true
	exit 1
fi
rc=0
"$cellman" apply --dry-run --all --silent >/dev/null 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
	echo "bench-apply: dry run after the no-op applies exited $rc, want 0" >&2
	exit 1
fi
echo "bench-apply: no-op apply --all: median $(median_ms "$scratch/noop.json") ms wall, mean $(mean_cpu_ms "$scratch/noop.json") ms CPU of cellman (user+sys) over $RUNS runs (target <= 2000 ms; load average $la)"

# For scale: the same number of in-cell execs of the same command one
# after the other, one cellctl process each.
names=$(cut -f2 "$scratch/ids.before" | tr '\n' ' ')
cat >"$scratch/execs.sh" <<EOF
for c in $names; do "$cellctl" exec "\$c" /bin/sh -c true || exit 1; done
EOF
hyperfine -N --style none -r "$RUNS" --export-json "$scratch/execs.json" \
	"sh $scratch/execs.sh" >/dev/null
echo "bench-apply: for scale, $CELLS sequential 'cellctl exec <cell> /bin/sh -c true': median $(median_ms "$scratch/execs.json") ms wall"
