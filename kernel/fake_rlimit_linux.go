package kernel

import "golang.org/x/sys/unix"

// applyFakeRlimits sets the cell's configured limits on a started member
// (cur = max, as upstream's supervise does) with prlimit(2). Errors are
// ignored: the fake only approximates the pre-exec setrlimit.
func applyFakeRlimits(pid int, r Rlimits) {
	set := func(res int, l Rlimit) {
		if !l.Set {
			return
		}
		v := l.Value
		if v == RlimitInfinity {
			v = unix.RLIM_INFINITY
		}
		lim := unix.Rlimit{Cur: v, Max: v}
		_ = unix.Prlimit(pid, res, &lim, nil)
	}
	set(unix.RLIMIT_NOFILE, r.Nofile)
	set(unix.RLIMIT_AS, r.AS)
	set(unix.RLIMIT_CORE, r.Core)
}
