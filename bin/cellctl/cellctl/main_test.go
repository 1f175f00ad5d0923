package cellctl

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cells/kernel"
)

// fakeEnv points cellctl at a fresh fake driver and returns a cell root.
func fakeEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("CELLS_DRIVER", "fake")
	t.Setenv("CELLMAN_PREFIX", filepath.Join(dir, "prefix"))
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func run(stdin string, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(append([]string{"cellctl"}, args...), strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

// Main used in-process with non-file streams: exec copies through pipes.
func TestMainExecWithBuffers(t *testing.T) {
	root := fakeEnv(t)
	if code, out, errs := run("", "create", "-n", "web", root); code != 0 || out != "cell 1\n" || errs != "" {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	code, out, errs := run("hello\n", "exec", "web", "sh", "-c", "cat; pwd; echo oops >&2; exit 5")
	if code != 5 || out != "hello\n"+root+"\n" || errs != "oops\n" {
		t.Fatalf("exec: %d %q %q", code, out, errs)
	}
	t.Setenv("SHELL", "/bin/sh")
	// A login shell named -sh, started with PS1 in its environment (the
	// host's /etc/profile may reassign PS1 under the fake driver, so read
	// the environment the shell was started with).
	code, out, _ = run("echo \"$0\"; tr '\\0' '\\n' < /proc/$$/environ | grep '^PS1='\n", "exec", "web")
	if code != 0 || out != "-sh\nPS1=[web]# \n" {
		t.Fatalf("shell: %d %q", code, out)
	}
}

func TestMainErrors(t *testing.T) {
	fakeEnv(t)
	if code, out, errs := run("", "destroy", "web"); code != 1 || out != "" || errs != "cellctl: cell 'web' not found\n" {
		t.Fatalf("destroy: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(""); code != 1 || errs != usageText {
		t.Fatalf("no command: %d %q", code, errs)
	}
}

func TestDriverError(t *testing.T) {
	err := driverError(fmt.Errorf("open: %w", kernel.ErrNotSupported))
	want := "kernel driver: open: not supported on this system (CELLS_DRIVER=fake selects the fake driver for previews)"
	if err.Error() != want {
		t.Fatalf("got %q; want %q", err, want)
	}
}
