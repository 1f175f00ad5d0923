//go:build linux

package kernel

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinuxCreateExecDestroy(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "smoke", root, ProfileHigh)
	if got := lxOut(t, d, id, "cat", "/cell-marker"); got != "inside" {
		t.Fatalf("cell root: got %q", got)
	}
	if got := lxOut(t, d, id, "hostname"); got != "smoke" {
		t.Errorf("hostname: got %q, want smoke", got)
	}
	out, st := lxRun(t, d, id, ExecSpec{Argv: []string{"sh", "-c", "exit 3"}})
	if st.Code != 3 || st.Signal != 0 {
		t.Errorf("exit status: got %+v (%s), want code 3", st, out)
	}
	if _, err := d.Exec(id, ExecSpec{Argv: []string{"no-such-command"}}); err == nil || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("exec of a missing command: got %v", err)
	}
	cells, err := d.List()
	if err != nil || len(cells) != 1 || cells[0].ID != id || cells[0].Name != "smoke" || cells[0].Root != root {
		t.Fatalf("list: %+v, %v", cells, err)
	}
	if err := d.Destroy(id); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("list after destroy: %+v", cells)
	}
	if err := d.Destroy(id); !errors.Is(err, ErrNotExist) {
		t.Fatalf("destroy again: got %v, want ErrNotExist", err)
	}
	_ = time.Second
}
