#!/bin/sh
# bench-dryrun.sh: `cellman apply --dry-run --all` as an operator runs it,
# over 1,000 declared cells with 5 actions each and none running (issue 5,
# target <= 500 ms). The DSL directory (the same cells as
# BenchmarkDryRun1000) lives in a scratch CELLMAN_PREFIX with the fake
# kernel driver; the median of RUNS (10) runs is reported, with hyperfine
# when installed, else a timed loop. Needs no root.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
CELLS=${CELLS:-1000}

scratch=$(mktemp -d /tmp/cells-bench-dryrun.XXXXXX)
trap 'rm -rf "$scratch"' EXIT INT TERM
export CELLMAN_PREFIX=$scratch/prefix CELLS_DRIVER=fake
unset CELLMAN_DSL_DIR
dsl=$CELLMAN_PREFIX/etc/cellman

# The binary measured is $CELLMAN when set, else a fresh build of this
# tree with `make build`'s flags.
cellman=$scratch/cellman
if [ -n "${CELLMAN:-}" ]; then
	cp "$CELLMAN" "$cellman"
else
	CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$cellman" ./bin/cellman
fi

mkdir -p "$dsl"
i=0
while [ $i -lt 10 ]; do
	printf 'volume("vol%d", { mode = "0750" })\n' $i
	i=$((i + 1))
done >"$dsl/00-volumes.lua"
i=0
while [ $i -lt "$CELLS" ]; do
	n=$(printf '%04d' $i)
	dep=""
	if [ $i -gt 0 ] && [ $((i % 10)) -ne 0 ]; then
		dep=$(printf 'depends_on = { "cell%04d" },' $((i - 1)))
	fi
	cat >"$dsl/cell$n.lua" <<EOF
cell("cell$n", {
  autostart = true, $dep
  create = { profile = "medium", reserved_ports = "$((10000 + i))" },
  supervise = { cmd = "exec httpd -f -p $((10000 + i))", run_as = "uid:1000" },
  mounts = { volume("vol$((i % 10))", { target = "/srv", mode = "ro" }) },
  healthcheck = "test -f /srv/index.html",
})
apply("cell$n", {
  pkg("nginx", "curl"),
  dir("/srv/www", { mode = "0755" }),
  file("/srv/www/index.html", "hello $i\n", { mode = "0644" }),
  line("/etc/hosts", "127.0.0.1 cell$n"),
  exec("echo configured"),
})
EOF
	i=$((i + 1))
done

# Exit status 2: a dry run that found drift (every cell is new).
rc=0
"$cellman" apply --dry-run --all >"$scratch/out" 2>&1 || rc=$?
if [ $rc -ne 2 ]; then
	echo "bench-dryrun: apply --dry-run --all exited $rc, want 2:" >&2
	tail -5 "$scratch/out" >&2
	exit 1
fi
echo "bench-dryrun: $CELLS cells, 5 actions each, none running; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null 2>&1; then
	# -i: every run exits 2 (drift found), checked above.
	if ! hyperfine -N -w 1 -r "$RUNS" -i --export-json "$scratch/h.json" \
		"$cellman apply --dry-run --all" >/dev/null 2>"$scratch/h.err"; then
		cat "$scratch/h.err" >&2
		exit 1
	fi
	# hyperfine's median and mean user+system time, in ms.
	med=$(tr -d ' \n' <"$scratch/h.json" | sed 's/.*"median":\([0-9.e-]*\).*/\1/')
	usr=$(tr -d ' \n' <"$scratch/h.json" | sed 's/.*"user":\([0-9.e-]*\).*/\1/')
	sys=$(tr -d ' \n' <"$scratch/h.json" | sed 's/.*"system":\([0-9.e-]*\).*/\1/')
	awk -v m="$med" -v u="$usr" -v s="$sys" -v n="$RUNS" 'BEGIN {
		printf "bench-dryrun: apply --dry-run --all: median %.0f ms wall, mean %.0f ms CPU (user+sys) over %d runs (target <= 500 ms)\n", m * 1000, (u + s) * 1000, n }'
else
	: >"$scratch/times"
	i=0
	while [ $i -lt "$RUNS" ]; do
		s=$(date +%s%N)
		"$cellman" apply --dry-run --all >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(((e - s) / 1000000)) >>"$scratch/times"
		i=$((i + 1))
	done
	sort -n "$scratch/times" | awk -v n="$RUNS" '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "bench-dryrun: apply --dry-run --all: median %.0f ms wall over %d runs (target <= 500 ms)\n", m, n }'
fi
