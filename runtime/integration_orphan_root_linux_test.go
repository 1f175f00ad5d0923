package runtime_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
)

// killOrphanHolder ends kernel cell id of this prefix when the driver
// lists it but cannot destroy it: a holder without a record, left by a
// create killed between the holder's start and its record (see
// TestIntegrationKilledAnywhereRoot). Every process in the cell's cgroup
// is killed (cgroup.kill) and the cgroup removed. The cgroup's name
// repeats the Linux driver's scheme (cells-<first 4 bytes of the SHA-256
// of the state dir>/<id>), so only this test's cell is ever touched.
func killOrphanHolder(t *testing.T, p paths.Paths, id uint32) {
	t.Helper()
	root := cgroup2Root()
	stateDir, err := filepath.Abs(p.KernelState())
	if root == "" || err != nil {
		t.Errorf("orphan cell %d: no cgroup v2 (%v)", id, err)
		return
	}
	sum := sha256.Sum256([]byte(stateDir))
	parent := filepath.Join(root, "cells-"+hex.EncodeToString(sum[:4]))
	cg := filepath.Join(parent, strconv.FormatUint(uint64(id), 10))
	if err := os.WriteFile(filepath.Join(cg, "cgroup.kill"), []byte("1"), 0); err != nil {
		t.Errorf("orphan cell %d: %v", id, err)
		return
	}
	for i := 0; ; i++ {
		err := unix.Rmdir(cg)
		if err == nil || err == unix.ENOENT {
			break
		}
		if i == 100 {
			t.Errorf("orphan cell %d: cgroup %s left: %v", id, cg, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	unix.Rmdir(parent) // fails while other cells of this prefix run: fine
	t.Logf("orphan cell %d: killed its processes, removed %s", id, cg)
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted, or "".
func cgroup2Root() string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4]
			}
		}
	}
	return ""
}
