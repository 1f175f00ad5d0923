//go:build linux

package kernel

import "golang.org/x/sys/unix"

// The upstream profiles (reference section 8.3) mapped to Linux mechanisms.
//
//	upstream rule             LOW                           MEDIUM                          HIGH
//	process: no seeing,       PID namespace (other cells    same                            same
//	 signalling, ptracing      and the host are invisible:
//	 outside the cell          ESRCH); holder and exec
//	                           stage non-dumpable, no
//	                           CAP_SYS_PTRACE in the cell
//	network: reserved ports   portguard (cgroup-BPF bind4/6 same                            same
//	                           at the v2 root); bpf(2)
//	                           denied, CAP_BPF dropped,
//	                           cgroup namespace per process
//	system: private sysctls   CAP_SYSLOG dropped; /proc     same                            same
//	                           kcore, keys, timer_list,
//	                           sched_debug, latency_stats,
//	                           timer_stats masked; acpi,
//	                           scsi, asound hidden
//	system: host admin        module load and kexec denied  all denied: caps SYS_ADMIN,     same
//	 (module, mknod, file-     (seccomp + CAP_SYS_MODULE),   MKNOD, SYS_CHROOT, SYS_BOOT,
//	 handle, chroot, reboot,   open_by_handle_at denied,     SYS_TIME, SYS_PACCT,
//	 swap, accounting, time,   CAP_DAC_READ_SEARCH dropped;  SYS_RESOURCE, NET_ADMIN,
//	 kernel addresses)         the rest allowed              WAKE_ALARM, BLOCK_SUSPEND,
//	                                                         SYS_TTY_CONFIG, LEASE,
//	                                                         LINUX_IMMUTABLE dropped;
//	                                                         seccomp: reboot, swapon/off,
//	                                                         acct, settimeofday,
//	                                                         clock_settime/adjtime,
//	                                                         adjtimex, chroot, keyctl,
//	                                                         add_key, request_key, syslog,
//	                                                         quotactl, vhangup,
//	                                                         name_to_handle_at,
//	                                                         mknod/mknodat of devices
//	system: mount changes     allowed (CAP_SYS_ADMIN kept)  denied: no CAP_SYS_ADMIN;       same
//	                                                         seccomp mount, umount2,
//	                                                         pivot_root, fsopen, fsconfig,
//	                                                         fsmount, fspick, move_mount,
//	                                                         open_tree, mount_setattr
//	system: sysctl writes     allowed (/proc/sys writable)  denied: /proc/sys, /proc/bus,   same
//	                                                         /proc/fs, /proc/irq,
//	                                                         /proc/sysrq-trigger read-only
//	system: SysV IPC          allowed (own IPC namespace)   allowed (own IPC namespace)     denied: seccomp shm*,
//	                                                                                          sem*, msg*
//	device                    allowed (minimal /dev, but    denied: no CAP_MKNOD,           same
//	                           CAP_MKNOD and raw I/O kept)   CAP_SYS_RAWIO; minimal /dev
//	machdep                   allowed                       denied: iopl, ioperm            same
//	                                                         (seccomp, CAP_SYS_RAWIO)
//	no_new_privs              no                            no                              yes
//
// Every profile: PID, mount, UTS, IPC namespaces (the host network stack is
// shared, as on NetBSD), a cgroup v2 per cell and a cgroup namespace per
// process, pivot_root into the cell root with the old root detached, a
// fresh procfs, a tmpfs /dev (null zero full random urandom tty, devpts
// newinstance, shm), seccomp with an architecture check (foreign and x32
// syscall numbers fail), every descriptor above 2 closed at execve.
// LOW keeps CAP_SYS_ADMIN and CAP_MKNOD, as upstream LOW keeps mounts and
// device access: root inside a LOW cell can mount a host disk, so LOW is a
// boundary for the cell's unprivileged users and for process visibility,
// not against the cell's root (upstream: "file-system isolation beyond
// chroot is not enforced"). MEDIUM and HIGH are boundaries against root.

// lxCaps are the capabilities each profile removes from the bounding set
// (and from every other set) before the workload runs.
var lxCapsLow = []uintptr{
	unix.CAP_SYS_MODULE, unix.CAP_SYS_PTRACE, unix.CAP_BPF, unix.CAP_SYSLOG,
	unix.CAP_MAC_ADMIN, unix.CAP_MAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH,
	unix.CAP_PERFMON, unix.CAP_CHECKPOINT_RESTORE, unix.CAP_AUDIT_CONTROL,
}

var lxCapsMedium = append(append([]uintptr{}, lxCapsLow...),
	unix.CAP_SYS_ADMIN, unix.CAP_MKNOD, unix.CAP_SYS_BOOT, unix.CAP_SYS_TIME,
	unix.CAP_SYS_RAWIO, unix.CAP_SYS_CHROOT, unix.CAP_SYS_PACCT,
	unix.CAP_SYS_RESOURCE, unix.CAP_NET_ADMIN, unix.CAP_WAKE_ALARM,
	unix.CAP_BLOCK_SUSPEND, unix.CAP_SYS_TTY_CONFIG, unix.CAP_LEASE,
	unix.CAP_LINUX_IMMUTABLE,
)

// lxDropCaps returns the capabilities profile p removes.
func lxDropCaps(p Profile) []uintptr {
	if p == ProfileLow {
		return lxCapsLow
	}
	return lxCapsMedium
}

// lxNoNewPrivs reports whether p sets no_new_privs (HIGH only, as the
// upstream HIGH profile adds it).
func lxNoNewPrivs(p Profile) bool { return p == ProfileHigh }

// lxReadOnlyProc reports whether /proc/sys and friends are bound read-only.
func lxReadOnlyProc(p Profile) bool { return p != ProfileLow }

// Syscall groups denied by seccomp, by name; the numbers come from the
// per-architecture table (linux_sysnum_*.go).
var (
	lxSysAll = []string{
		"bpf", "init_module", "finit_module", "delete_module", "create_module",
		"kexec_load", "kexec_file_load", "open_by_handle_at",
	}
	lxSysMedium = []string{
		"mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount",
		"fspick", "move_mount", "open_tree", "mount_setattr", "reboot",
		"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
		"swapon", "swapoff", "acct", "iopl", "ioperm", "syslog", "quotactl",
		"keyctl", "add_key", "request_key", "name_to_handle_at", "vhangup",
		"lookup_dcookie", "chroot",
	}
	lxSysHigh = []string{
		"shmget", "shmat", "shmdt", "shmctl", "semget", "semop",
		"semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
	}
	// lxSysDevices take a mode argument (index) that is denied when it
	// creates a character or block device.
	lxSysDevices = map[string]int{"mknod": 1, "mknodat": 2}
)

// lxDeniedSyscalls returns the names denied under p.
func lxDeniedSyscalls(p Profile) (deny []string, devices map[string]int) {
	deny = append(deny, lxSysAll...)
	if p == ProfileLow {
		return deny, nil
	}
	deny = append(deny, lxSysMedium...)
	if p == ProfileHigh {
		deny = append(deny, lxSysHigh...)
	}
	return deny, lxSysDevices
}
