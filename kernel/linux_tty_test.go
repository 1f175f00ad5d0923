//go:build linux

package kernel

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lxOpenPty opens a pseudo-terminal pair of the host's devpts.
func lxOpenPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestLinuxSetctty: an interactive process gets its terminal as the
// controlling terminal in a new session (cellctl exec's shell).
func TestLinuxSetctty(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "tty", root, ProfileHigh)
	m, s := lxOpenPty(t)
	p, err := d.Exec(id, ExecSpec{
		Argv:  []string{"sh", "-c", `[ -t 0 ] && echo is-a-tty; set -- $(cat /proc/self/stat); echo "sid=$6 tty=$7"`},
		Stdin: s, Stdout: s, Stderr: s,
		Setsid: true, Setctty: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("shell on a tty: %+v %v", st, err)
	}
	m.SetReadDeadline(time.Now().Add(2 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "tty=") || !strings.HasSuffix(strings.TrimRight(out.String(), "\r"), "\n") {
		n, err := m.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	got := out.String()
	if !strings.Contains(got, "is-a-tty") || strings.Contains(got, "tty=0") || !strings.Contains(got, "tty=") {
		t.Errorf("terminal output: %q", got)
	}
}
