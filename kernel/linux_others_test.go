//go:build linux

package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lxOthersEnv makes the test binary run lxOthersMain instead of the tests:
// the part of TestLinuxListByOtherUser that runs as another user.
const lxOthersEnv = "CELLS_TEST_OTHER_USER_STATE"

// lxOthersMain lists the cells of the state directory in $lxOthersEnv, as
// whatever user it runs as, tries what only root may do, and prints it all.
func lxOthersMain() int {
	d, err := Open(Options{StateDir: os.Getenv(lxOthersEnv)})
	if err != nil {
		fmt.Printf("open: %v\n", err)
		return 1
	}
	cells, err := d.List()
	fmt.Printf("list: %d cells, err %v\n", len(cells), err)
	for _, c := range cells {
		fmt.Printf("cell %d %s procs %d\n", c.ID, c.Name, c.Procs)
		_, err := d.Exec(c.ID, ExecSpec{Argv: []string{"/bin/true"}})
		fmt.Printf("exec: %v\n", err)
		fmt.Printf("destroy: %v\n", d.Destroy(c.ID))
		// The holder's own check, without the driver's: a raw request.
		ld := d.(*lxDriver)
		conn, err := ld.dial(c.ID)
		if err != nil {
			fmt.Printf("dial: %v\n", err)
			continue
		}
		var r lxReply
		if err = lxSend(conn, lxRequest{Op: "destroy"}, nil); err == nil {
			_, err = lxRecv(conn, &r, lxMaxReply)
		}
		conn.Close()
		fmt.Printf("raw destroy: %v %q\n", err, r.Err)
	}
	return 0
}

// TestLinuxListByOtherUser: any host user lists the cells and their
// counters (upstream's list sysctl allows it); only root creates, enters
// and destroys them, which the holder enforces itself too.
func TestLinuxListByOtherUser(t *testing.T) {
	lxNeedCells(t)
	d := lxTestDriver(t)
	id := lxCreate(t, d, "shared", lxTestRoot(t), ProfileMedium)
	// The test binary, where user nobody can run it.
	bin := filepath.Join(t.TempDir(), "kernel.test")
	lxCopyFile(t, os.Args[0], bin)
	for _, p := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
		os.Chmod(p, 0o755)
	}
	os.Chmod(bin, 0o755)
	cmd := exec.Command(bin)
	cmd.Env = []string{lxOthersEnv + "=" + d.st.dir, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the other user's run hangs")
	}
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"list: 1 cells, err <nil>\n",
		fmt.Sprintf("cell %d shared procs 0\n", id),
		fmt.Sprintf("exec: linux kernel: exec in cell %d: cells need root\n", id),
		fmt.Sprintf("destroy: linux kernel: destroy cell %d: cells need root\n", id),
		"raw destroy: <nil> \"only root may destroy\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("as nobody: missing %q in:\n%s", want, got)
		}
	}
	// The cell is untouched.
	if out := lxOut(t, d, id, "echo", "ok"); out != "ok" {
		t.Fatalf("cell after the other user: %q", out)
	}
}
