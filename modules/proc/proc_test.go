package proc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// fakeCell points the module at a fresh prefix with the fake driver and
// creates an active cell "t" there.
func fakeCell(t *testing.T) (id uint32, root string) {
	t.Helper()
	prefix := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", prefix)
	t.Setenv("CELLS_DRIVER", "fake")
	root = filepath.Join(prefix, "root")
	os.MkdirAll(root, 0o755)
	d, err := kernel.Open(kernel.Options{StateDir: paths.FromEnv().KernelState()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	id, err = d.Create(kernel.CreateSpec{Name: "t", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d, err := kernel.Open(kernel.Options{StateDir: paths.FromEnv().KernelState()}); err == nil {
			d.Destroy(id)
			d.Close()
		}
	})
	return id, root
}

func TestRunCapturesAndFeeds(t *testing.T) {
	id, _ := fakeCell(t)
	res, err := Run(context.Background(), "t", 0, Spec{
		Argv:          []string{"/bin/sh", "-c", "read x; echo out:$x:$FOO; echo err >&2; exit 3"},
		Env:           map[string]string{"FOO": "bar", "PATH": "/usr/bin:/bin"},
		Stdin:         "hello\n",
		CaptureStdout: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 3 || res.Signal != 0 || res.TimedOut || res.Stdout != "out:hello:bar\n" || res.Stderr != "err\n" || res.Raw() != 3<<8 {
		t.Fatalf("result %+v", res)
	}
	res, err = Run(context.Background(), "", id, Spec{Argv: []string{"/bin/sh", "-c", "kill -9 $$"}})
	if err != nil || res.Signal != 9 || res.Raw() != 9 {
		t.Fatalf("signal result %+v %v", res, err)
	}
}

func TestRunForwards(t *testing.T) {
	fakeCell(t)
	var out, errw bytes.Buffer
	res, err := Run(context.Background(), "t", 0, Spec{
		Argv: []string{"/bin/sh", "-c", "echo o; echo e >&2"}, Forward: true, Stdout: &out, Stderr: &errw,
	})
	if err != nil || res.Code != 0 {
		t.Fatal(res, err)
	}
	if out.String() != "o\n" || errw.String() != "e\n" || res.Stderr != "e\n" {
		t.Fatalf("forwarded %q %q captured %q", out.String(), errw.String(), res.Stderr)
	}
}

func TestRunTimeoutKillsGroup(t *testing.T) {
	fakeCell(t)
	pidfile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	// The shell ignores SIGTERM, so SIGKILL after the grace must end it;
	// its background child must go with the group.
	res, err := Run(context.Background(), "t", 0, Spec{
		Argv:    []string{"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $! > " + pidfile + "; while :; do sleep 1; done"},
		Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || res.Signal == 0 {
		t.Fatalf("result %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	b, _ := os.ReadFile(pidfile)
	if pid := strings.TrimSpace(string(b)); pid != "" {
		deadline := time.Now().Add(2 * time.Second)
		for {
			if _, err := os.Stat("/proc/" + pid); err != nil {
				break
			}
			st, _ := os.ReadFile("/proc/" + pid + "/stat")
			if strings.Contains(string(st), ") Z ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("background child %s survived the timeout", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestRunNoCell(t *testing.T) {
	fakeCell(t)
	_, err := Run(context.Background(), "nope", 0, Spec{Argv: []string{"true"}})
	if !errors.Is(err, kernel.ErrNotExist) || err.Error() != "exec in cell nope: cell not found" {
		t.Fatalf("err = %v", err)
	}
}
