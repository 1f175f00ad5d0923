package runtime

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"cells/runtime/paths"
)

// storageEnv points the prefix at a scratch directory with the fake
// kernel driver.
func storageEnv(t *testing.T) StorageOptions {
	t.Helper()
	t.Setenv("CELLMAN_PREFIX", t.TempDir())
	t.Setenv("CELLS_DRIVER", "fake")
	t.Setenv("CELLMAN_DSL_DIR", "")
	return StorageOptions{Paths: paths.FromEnv(), Logf: t.Logf}
}

// putFiles creates dir/<name> with content for each name.
func putFiles(t *testing.T, dir, content string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listing describes a tree: one line per entry with type, mode, owner,
// size, link target and, for files and links, the modification time.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %v %d:%d", rel, fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %d %q nlink=%d %d", fi.Size(), data, st.Nlink, fi.ModTime().Unix())
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + l
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestBackupRoundTrip(t *testing.T) {
	o := storageEnv(t)
	if err := CreateVolume(o, "data", "0750"); err != nil {
		t.Fatal(err)
	}
	vol := o.Paths.Volume("data")
	putFiles(t, filepath.Join(vol, "etc"), "conf\n", "a.conf", "b.conf")
	os.Mkdir(filepath.Join(vol, "empty"), 0o700)
	os.Symlink("etc/a.conf", filepath.Join(vol, "rel.link"))
	os.Symlink("/var/www/current", filepath.Join(vol, "abs.link"))
	os.Link(filepath.Join(vol, "etc", "a.conf"), filepath.Join(vol, "hard"))
	os.Chmod(filepath.Join(vol, "etc", "b.conf"), 0o600)
	old := time.Unix(1_500_000_000, 0)
	os.Chtimes(filepath.Join(vol, "etc", "b.conf"), old, old)
	if os.Geteuid() == 0 {
		os.Lchown(filepath.Join(vol, "etc", "b.conf"), 101, 202)
		os.Lchown(filepath.Join(vol, "abs.link"), 7, 8)
		os.Lchown(filepath.Join(vol, "empty"), 9, 10)
	}
	before := listing(t, vol)
	path, st, err := CreateBackup(o, VolumeBackup, "data")
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 8 {
		t.Errorf("entries %d", st.Entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive %s: %v %v", path, fi, err)
	}
	os.RemoveAll(filepath.Join(vol, "etc"))
	putFiles(t, vol, "new", "stray")
	os.Chmod(vol, 0o777)
	got, err := RestoreBackup(o, VolumeBackup, "data", "", true)
	if err != nil || got != path {
		t.Fatalf("restore %q: %v", got, err)
	}
	if after := listing(t, vol); after != before {
		t.Errorf("restored tree differs:\n%s\nwant\n%s", after, before)
	}
	if ents, _ := os.ReadDir(o.Paths.VolumesDir); len(ents) != 1 {
		t.Errorf("leftovers next to the volume: %v", ents)
	}
}

// tarOf builds a gzip tar from headers; regular files get data.
func tarOf(t *testing.T, hdrs ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range hdrs {
		data := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname = ""
			h.Size = int64(len(data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(data))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestRestoreRefusesHostileArchives(t *testing.T) {
	o := storageEnv(t)
	t.Setenv("CELLMAN_RESTORE_MAX_BYTES", "1048576")
	if err := CreateVolume(o, "data", ""); err != nil {
		t.Fatal(err)
	}
	vol := o.Paths.Volume("data")
	putFiles(t, vol, "live", "keep")
	outside := t.TempDir()
	reg := func(name, data string) tar.Header {
		return tar.Header{Typeflag: tar.TypeReg, Name: name, Linkname: data}
	}
	good := tarOf(t, reg("./keep", "new"))
	hostile := map[string][]byte{
		"absolute":      tarOf(t, reg(outside+"/pwned", "x")),
		"dotdot":        tarOf(t, reg("../../../../pwned", "x")),
		"symlink-write": tarOf(t, tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: outside}, reg("l/pwned", "x")),
		"symlink-up":    tarOf(t, tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "../.."}, reg("l/pwned", "x")),
		"hardlink-out":  tarOf(t, tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "../../../etc/passwd"}),
		"device":        tarOf(t, tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}),
		"duplicate":     tarOf(t, reg("keep", "1"), reg("keep", "2")),
		"truncated":     good[:len(good)-8],
		"bomb":          tarOf(t, reg("zeros", strings.Repeat("\x00", 3<<20))),
	}
	i := 0
	for name, data := range hostile {
		i++
		arc := filepath.Join(o.Paths.VolumeBackups(), fmt.Sprintf("data_202001010000%02d.tar.gz", i))
		os.MkdirAll(filepath.Dir(arc), 0o755)
		if err := os.WriteFile(arc, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := VerifyBackup(o, VolumeBackup, "data", arc, false); err == nil {
			t.Errorf("%s: verify passed", name)
		}
		if _, err := RestoreBackup(o, VolumeBackup, "data", arc, false); err == nil {
			t.Errorf("%s: restore passed", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
		if got, _ := os.ReadFile(filepath.Join(vol, "keep")); string(got) != "live" {
			t.Fatalf("%s: live data changed: %q", name, got)
		}
		if ents, _ := os.ReadDir(outside); len(ents) != 0 {
			t.Fatalf("%s: written outside: %v", name, ents)
		}
		if ents, _ := os.ReadDir(o.Paths.VolumesDir); len(ents) != 1 {
			t.Fatalf("%s: staging left behind: %v", name, ents)
		}
	}
}

// TestRestoreKilled kills a restore (SIGKILL) at each step of the swap and
// checks that the volume then holds exactly the old or the new contents.
func TestRestoreKilled(t *testing.T) {
	for _, tc := range []struct{ step, want string }{
		{"extracted", "old"},
		{"moved-old", "old"}, // rolled back on the next run
		{"swapped", "new"},
	} {
		t.Run(tc.step, func(t *testing.T) {
			o := storageEnv(t)
			vol := o.Paths.Volume("data")
			newNames := []string{"n1", "n2", "n3"}
			putFiles(t, vol, "new", newNames...)
			if _, _, err := CreateBackup(o, VolumeBackup, "data"); err != nil {
				t.Fatal(err)
			}
			os.RemoveAll(vol)
			oldNames := []string{"o1", "o2", "o3", "o4"}
			putFiles(t, vol, "old", oldNames...)

			cmd := exec.Command(os.Args[0], "-test.run=^TestRestoreChild$")
			cmd.Env = append(os.Environ(), "CELLS_TEST_RESTORE_CHILD=1", "CELLMAN_TEST_RESTORE_PAUSE="+tc.step)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			sc := bufio.NewScanner(stderr)
			paused := false
			for sc.Scan() {
				if sc.Text() == "restore paused at "+tc.step {
					paused = true
					break
				}
			}
			if !paused {
				t.Fatal("the restore never reached the step")
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			// The next storage command settles the leftovers: one on the
			// volume, or one listing every volume.
			if tc.step == "moved-old" {
				if err := recoverAll(o.Paths.VolumesDir, t.Logf); err != nil {
					t.Fatal(err)
				}
			} else if err := CreateVolume(o, "data", ""); err != nil {
				t.Fatal(err)
			}
			want := oldNames
			if tc.want == "new" {
				want = newNames
			}
			ents, err := os.ReadDir(vol)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range ents {
				data, _ := os.ReadFile(filepath.Join(vol, e.Name()))
				if string(data) != tc.want {
					t.Errorf("%s holds %q, want %q", e.Name(), data, tc.want)
				}
				got = append(got, e.Name())
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("volume holds %v, want %v", got, want)
			}
			if ents, _ := os.ReadDir(o.Paths.VolumesDir); len(ents) != 1 {
				t.Errorf("leftovers: %v", ents)
			}
		})
	}
}

// TestRestoreChild is the restore TestRestoreKilled kills.
func TestRestoreChild(t *testing.T) {
	if os.Getenv("CELLS_TEST_RESTORE_CHILD") == "" {
		t.Skip("helper process of TestRestoreKilled")
	}
	_, err := RestoreBackup(StorageOptions{Paths: paths.FromEnv()}, VolumeBackup, "data", "", true)
	t.Fatalf("restore was not stopped at its pause: %v", err)
}

func TestListBackupsOrderAndNames(t *testing.T) {
	o := storageEnv(t)
	p := o.Paths
	for _, f := range []string{
		p.VolumeBackups() + "/v_20200101000000.tar.gz",
		p.VolumeBackups() + "/v_20220101000000.tar.gz",
		p.BackupDir + "/v_20210101000000.tar.gz",
		p.BackupDir + "/v_2021.tar.gz",
		p.VolumeBackups() + "/vv_20230101000000.tar.gz",
		p.OverlayBackups() + "/v_20240101000000.tar.gz",
	} {
		putFiles(t, filepath.Dir(f), "x", filepath.Base(f))
	}
	list, err := ListBackups(p, VolumeBackup, "v")
	if err != nil {
		t.Fatal(err)
	}
	var ts []string
	for _, b := range list {
		ts = append(ts, b.Timestamp)
	}
	if strings.Join(ts, ",") != "20220101000000,20210101000000,20200101000000" {
		t.Errorf("order %v", ts)
	}
	if _, err := ListBackups(p, VolumeBackup, ".."); err == nil || err.Error() != "invalid volume name: .." {
		t.Errorf("name ..: %v", err)
	}
}
