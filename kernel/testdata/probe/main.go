// Command probe is run inside cells by the Linux driver's isolation tests.
// Each operation prints "ok" or "err <errno name>" and exits 0.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: probe op [args]")
		os.Exit(2)
	}
	arg := func(i int) string {
		if len(os.Args) > i {
			return os.Args[i]
		}
		return ""
	}
	var err error
	switch os.Args[1] {
	case "kill":
		pid, _ := strconv.Atoi(arg(2))
		err = unix.Kill(pid, 0)
	case "holder-attack":
		// For arg(2) milliseconds, over and over: SIGABRT to every thread
		// of PID 1 (the holder) and a NOFILE limit of 8 on each; prints
		// how often either was allowed.
		ms, _ := strconv.Atoi(arg(2))
		hits := 0
		for end := time.Now().Add(time.Duration(ms) * time.Millisecond); time.Now().Before(end); {
			ents, _ := os.ReadDir("/proc/1/task")
			for _, e := range ents {
				tid, _ := strconv.Atoi(e.Name())
				if unix.Tgkill(1, tid, unix.SIGABRT) == nil {
					hits++
				}
				if unix.Prlimit(tid, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 8, Max: 8}, nil) == nil {
					hits++
				}
			}
		}
		fmt.Printf("hits %d\n", hits)
		return
	case "ptrace":
		pid, _ := strconv.Atoi(arg(2))
		err = unix.PtraceAttach(pid)
		if err == nil {
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WALL, nil)
			unix.PtraceDetach(pid)
		}
	case "mount":
		os.MkdirAll("/tmp/probe-mnt", 0o755)
		err = unix.Mount("tmpfs", "/tmp/probe-mnt", "tmpfs", 0, "size=16k")
		if err == nil {
			unix.Unmount("/tmp/probe-mnt", 0)
		}
	case "mknod":
		os.Remove("/tmp/probe-node")
		err = unix.Mknod("/tmp/probe-node", unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
		os.Remove("/tmp/probe-node")
	case "mkfifo":
		os.Remove("/tmp/probe-fifo")
		err = unix.Mknod("/tmp/probe-fifo", unix.S_IFIFO|0o600, 0)
		os.Remove("/tmp/probe-fifo")
	case "module":
		// An invalid descriptor: EBADF means the call got through policy.
		err = unix.FinitModule(-1, "", 0)
		if err == unix.EBADF {
			err = nil
		}
	case "sysctl":
		// kernel.domainname is per UTS namespace: writing it is harmless
		// to the host, and still a sysctl write.
		err = os.WriteFile("/proc/sys/kernel/domainname", []byte("probe\n"), 0)
	case "ipc":
		var id int
		id, err = unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
		if err == nil {
			unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		}
	case "chroot-escape":
		// The classic double chroot: chroot into a subdirectory, walk up
		// past it, chroot to where we landed. Prints where that was.
		os.MkdirAll("/tmp/probe-jail", 0o755)
		if err = unix.Chroot("/tmp/probe-jail"); err == nil {
			for i := 0; i < 64; i++ {
				unix.Chdir("..")
			}
			err = unix.Chroot(".")
		}
		if err == nil {
			fmt.Println(where())
			return
		}
	case "dotdot":
		unix.Chdir("/")
		for i := 0; i < 64; i++ {
			unix.Chdir("..")
		}
		fmt.Println(where())
		return
	case "fds":
		// Raw syscalls only: os.Open would start the Go runtime's poller,
		// whose epoll and eventfd descriptors would look like leaks.
		// The links are read while the directory is open, so its own
		// descriptor shows up as what it is.
		dfd, e := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if e != nil {
			fmt.Println("err", e)
			return
		}
		buf := make([]byte, 8192)
		var names []string
		for {
			n, e := unix.ReadDirent(dfd, buf)
			if e != nil || n <= 0 {
				break
			}
			_, _, names = unix.ParseDirent(buf[:n], -1, names)
		}
		var out []string
		lb := make([]byte, 256)
		for _, n := range names {
			k, _ := unix.Readlink("/proc/self/fd/"+n, lb)
			if k < 0 {
				k = 0
			}
			out = append(out, n+"="+string(lb[:k]))
		}
		unix.Close(dfd)
		fmt.Println(strings.Join(out, " "))
		return
	case "exe-write":
		// CVE-2019-5736: try to open the holder's binary for writing.
		var f *os.File
		f, err = os.OpenFile("/proc/1/exe", os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
	case "caps":
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "CapBnd") || strings.HasPrefix(l, "CapEff") || strings.HasPrefix(l, "NoNewPrivs") || strings.HasPrefix(l, "Seccomp:") {
				fmt.Println(l)
			}
		}
		return
	case "bind":
		port, _ := strconv.Atoi(arg(2))
		fd, e := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if e == nil {
			err = unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
			unix.Close(fd)
		} else {
			err = e
		}
	default:
		fmt.Println("unknown op")
		os.Exit(2)
	}
	if err != nil {
		if e, ok := err.(syscall.Errno); ok {
			fmt.Println("err", unix.ErrnoName(e))
			return
		}
		fmt.Println("err", err)
		return
	}
	fmt.Println("ok")
}

// where reports whether the current root is the cell's: the cell root has
// a /cell-marker file that the host does not.
func where() string {
	if _, err := os.Stat("/cell-marker"); err == nil {
		return "inside"
	}
	return "outside"
}
