//go:build linux

package kernel

import "golang.org/x/sys/unix"

// lxAuditArch is the seccomp architecture of this build.
const lxAuditArch = unix.AUDIT_ARCH_X86_64

// lxRejectX32 rejects x32 syscall numbers, which would otherwise bypass a
// filter written for the 64-bit numbers.
const lxRejectX32 = true

// lxSysnum maps the names used by the profile tables to amd64 numbers.
var lxSysnum = map[string]uint32{
	"bpf": unix.SYS_BPF, "init_module": unix.SYS_INIT_MODULE,
	"finit_module": unix.SYS_FINIT_MODULE, "delete_module": unix.SYS_DELETE_MODULE,
	"create_module": unix.SYS_CREATE_MODULE, "kexec_load": unix.SYS_KEXEC_LOAD,
	"kexec_file_load": unix.SYS_KEXEC_FILE_LOAD, "open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT,
	"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "pivot_root": unix.SYS_PIVOT_ROOT,
	"fsopen": unix.SYS_FSOPEN, "fsconfig": unix.SYS_FSCONFIG, "fsmount": unix.SYS_FSMOUNT,
	"fspick": unix.SYS_FSPICK, "move_mount": unix.SYS_MOVE_MOUNT, "open_tree": unix.SYS_OPEN_TREE,
	"mount_setattr": unix.SYS_MOUNT_SETATTR, "reboot": unix.SYS_REBOOT,
	"settimeofday": unix.SYS_SETTIMEOFDAY, "clock_settime": unix.SYS_CLOCK_SETTIME,
	"clock_adjtime": unix.SYS_CLOCK_ADJTIME, "adjtimex": unix.SYS_ADJTIMEX,
	"swapon": unix.SYS_SWAPON, "swapoff": unix.SYS_SWAPOFF, "acct": unix.SYS_ACCT,
	"iopl": unix.SYS_IOPL, "ioperm": unix.SYS_IOPERM, "syslog": unix.SYS_SYSLOG,
	"quotactl": unix.SYS_QUOTACTL, "keyctl": unix.SYS_KEYCTL, "add_key": unix.SYS_ADD_KEY,
	"request_key": unix.SYS_REQUEST_KEY, "name_to_handle_at": unix.SYS_NAME_TO_HANDLE_AT,
	"vhangup": unix.SYS_VHANGUP, "lookup_dcookie": unix.SYS_LOOKUP_DCOOKIE,
	"chroot": unix.SYS_CHROOT,
	"shmget": unix.SYS_SHMGET, "shmat": unix.SYS_SHMAT, "shmdt": unix.SYS_SHMDT,
	"shmctl": unix.SYS_SHMCTL, "semget": unix.SYS_SEMGET, "semop": unix.SYS_SEMOP,
	"semtimedop": unix.SYS_SEMTIMEDOP, "semctl": unix.SYS_SEMCTL, "msgget": unix.SYS_MSGGET,
	"msgsnd": unix.SYS_MSGSND, "msgrcv": unix.SYS_MSGRCV, "msgctl": unix.SYS_MSGCTL,
	"mknod": unix.SYS_MKNOD, "mknodat": unix.SYS_MKNODAT,
}
