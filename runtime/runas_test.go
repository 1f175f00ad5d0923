package runtime

import (
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cells/kernel"
)

// fakeCellRoot is a cell root with its own passwd and group files; the
// host's files are never consulted for cell: forms.
func fakeCellRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(
		"root:x:0:0:root:/root:/bin/sh\nwww:x:1001:1002::/var/www:/sbin/nologin\nbad:x:zz:1::/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte(
		"root:x:0:\nwww:x:1002:\nlog:x:1003:www,other\nstaff:x:50:other\nweb:x:1004:root,www\n"), 0o644)
	return root
}

func TestResolveRunAs(t *testing.T) {
	root := fakeCellRoot(t)
	cases := []struct {
		in   string
		want *kernel.Cred
		err  string
	}{
		{"", nil, ""},
		{"uid:1000", &kernel.Cred{UID: 1000, GID: 1000}, ""},
		{"uid:1000:2000", &kernel.Cred{UID: 1000, GID: 2000}, ""},
		{"uid:1:2:3", nil, "invalid run_as 'uid:1:2:3' (expected uid:uid[:gid])"},
		{"uid:abc", nil, "invalid run_as 'uid:abc' (expected uid:uid[:gid])"},
		{"uid:", nil, "invalid run_as 'uid:' (expected uid:uid[:gid])"},
		{"cell:www", &kernel.Cred{UID: 1001, GID: 1002, Groups: []uint32{1002, 1003, 1004}}, ""},
		{"cell:www:staff", &kernel.Cred{UID: 1001, GID: 50, Groups: []uint32{1002, 1003, 1004, 50}}, ""},
		{"cell:www:77", &kernel.Cred{UID: 1001, GID: 77, Groups: []uint32{1002, 1003, 1004, 77}}, ""},
		{"cell:root", &kernel.Cred{UID: 0, GID: 0, Groups: []uint32{0, 1004}}, ""},
		{"cell:nobody", nil, "unable to resolve cell user 'nobody' in " + root + "/etc/passwd"},
		{"cell:bad", nil, "unable to resolve cell user 'bad' in " + root + "/etc/passwd"},
		{"cell:www:nogroup", nil, "unable to resolve cell group 'nogroup' in " + root + "/etc/group"},
		{"cell:w w", nil, "invalid cell user in run_as: w w"},
		{"cell:", nil, "invalid cell user in run_as: "},
		{"cell:www:a/b", nil, "invalid cell group in run_as: a/b"},
		{"host:a/b", nil, "invalid run_as 'host:a/b' (host user/group token)"},
		{"host:root:wheel:x", nil, "invalid run_as 'host:root:wheel:x' (host user/group token)"},
		{"host:no-such-user-cells", nil, "unable to resolve host user 'no-such-user-cells'"},
		{"host:root:no-such-group-cells", nil, "unable to resolve host group 'no-such-group-cells'"},
		{"user:www", nil, "invalid run_as 'user:www' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])"},
		{"www", nil, "invalid run_as 'www' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])"},
	}
	for _, tc := range cases {
		got, err := ResolveRunAs(tc.in, root)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("ResolveRunAs(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ResolveRunAs(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestResolveRunAsHost(t *testing.T) {
	if _, err := user.Lookup("root"); err != nil {
		t.Skip("no host user root: ", err)
	}
	got, err := ResolveRunAs("host:root", "/nonexistent")
	if err != nil {
		t.Fatal(err)
	}
	if got.UID != 0 || got.GID != 0 || !contains(got.Groups, 0) {
		t.Fatalf("host:root = %+v", got)
	}
	got, err = ResolveRunAs("host:root:12345", "/nonexistent")
	if err != nil || got.GID != 12345 || !contains(got.Groups, 12345) || !contains(got.Groups, 0) {
		t.Fatalf("host:root:12345 = %+v, %v", got, err)
	}
}

func contains(l []uint32, v uint32) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// A cell's passwd that is a link to the host's file is read inside the
// root (where the link leads nowhere), never on the host.
func TestResolveRunAsCellLinksStayInside(t *testing.T) {
	root := t.TempDir()
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "passwd"), []byte("evil:x:0:0::/:/bin/sh\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.Symlink(filepath.Join(host, "passwd"), filepath.Join(root, "etc/passwd"))
	_, err := ResolveRunAs("cell:evil", root)
	if err == nil || !strings.HasPrefix(err.Error(), "unable to open cell passwd database "+root+"/etc/passwd: ") {
		t.Fatalf("error = %v, want unable to open cell passwd database", err)
	}
	// master.passwd is the fallback.
	os.WriteFile(filepath.Join(root, "etc/master.passwd"), []byte("evil:*:7:8::0:0::/:/bin/sh\n"), 0o600)
	got, err := ResolveRunAs("cell:evil", root)
	if err != nil || got.UID != 7 || got.GID != 8 || !reflect.DeepEqual(got.Groups, []uint32{8}) {
		t.Fatalf("master.passwd fallback = %+v, %v", got, err)
	}
}
