package cellabi

import (
	"errors"
	"io/fs"
	"math"
	"strings"
	"syscall"
	"testing"
)

// dirs is a Stat func knowing a few directories and one file.
func dirs(t *testing.T) func(string) (bool, error) {
	t.Helper()
	return func(p string) (bool, error) {
		switch p {
		case "/cells/a", "/cells/b", "/cells/c", "/":
			return true, nil
		case "/cells/file":
			return false, nil
		case "/cells/secret":
			return false, fs.ErrPermission
		}
		return false, fs.ErrNotExist
	}
}

func newFake(t *testing.T) *FakeKernel {
	k := NewFakeKernel()
	k.Stat = dirs(t)
	return k
}

func mkCreate(t *testing.T, name, root string) *Create {
	t.Helper()
	c := &Create{}
	if err := c.SetName(name); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRoot(root); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakeCreateValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Create)
		want error
	}{
		{"ok", func(c *Create) {}, nil},
		{"unknown flag", func(c *Create) { c.Flags = 0x20 }, syscall.EINVAL},
		{"nports without flag", func(c *Create) { c.NPorts = 1; c.Ports[0] = 80 }, syscall.EINVAL},
		{"ports flag without ports", func(c *Create) { c.Flags = CreatePorts }, syscall.EINVAL},
		{"33 ports", func(c *Create) { c.Flags = CreatePorts; c.NPorts = 33 }, syscall.EINVAL},
		{"zero port", func(c *Create) { c.Flags = CreatePorts; _ = c.SetPorts([]uint16{80, 0}) }, syscall.EINVAL},
		{"duplicate port", func(c *Create) { c.Flags = CreatePorts; _ = c.SetPorts([]uint16{80, 81, 80}) }, syscall.EINVAL},
		{"32 ports", func(c *Create) {
			c.Flags = CreatePorts
			p := make([]uint16, 32)
			for i := range p {
				p[i] = uint16(1000 + i)
			}
			_ = c.SetPorts(p)
		}, nil},
		{"nofile without flag", func(c *Create) { c.RlimitNofile = 1 }, syscall.EINVAL},
		{"as without flag", func(c *Create) { c.RlimitAS = 1 }, syscall.EINVAL},
		{"core without flag", func(c *Create) { c.RlimitCore = RlimitInfinity }, syscall.EINVAL},
		{"core zero with flag", func(c *Create) { c.Flags = CreateRlimitCore }, nil},
		{"profile 3", func(c *Create) { c.Flags = CreateProfile; c.Profile = 3 }, syscall.EINVAL},
		{"profile 3 without flag is ignored", func(c *Create) { c.Profile = 3 }, nil},
		{"profile low", func(c *Create) { c.Flags = CreateProfile; c.Profile = ProfileLow }, nil},
		{"empty name", func(c *Create) { c.Name = [64]byte{} }, syscall.EINVAL},
		{"name not terminated", func(c *Create) {
			for i := range c.Name {
				c.Name[i] = 'a'
			}
		}, syscall.EINVAL},
		{"name newline", func(c *Create) { _ = c.SetName("a\nb") }, syscall.EINVAL},
		{"name DEL", func(c *Create) { _ = c.SetName("a\x7f") }, syscall.EINVAL},
		{"name charset", func(c *Create) { _ = c.SetName("a/b") }, syscall.EINVAL},
		{"name space", func(c *Create) { _ = c.SetName("a b") }, syscall.EINVAL},
		{"name 63", func(c *Create) { _ = c.SetName(strings.Repeat("x", 63)) }, nil},
		{"name charset ok", func(c *Create) { _ = c.SetName("A-z_0.9") }, nil},
		{"empty root", func(c *Create) { c.Root = [256]byte{} }, syscall.EINVAL},
		{"root tab", func(c *Create) { _ = c.SetRoot("/cells/\ta") }, syscall.EINVAL},
		{"root not terminated", func(c *Create) {
			for i := range c.Root {
				c.Root[i] = 'r'
			}
		}, syscall.EINVAL},
		{"root missing", func(c *Create) { _ = c.SetRoot("/cells/none") }, syscall.ENOENT},
		{"root file", func(c *Create) { _ = c.SetRoot("/cells/file") }, syscall.ENOTDIR},
		{"root unreadable", func(c *Create) { _ = c.SetRoot("/cells/secret") }, syscall.EACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newFake(t)
			c := mkCreate(t, "a", "/cells/a")
			tt.mod(c)
			id, err := Driver{k}.Create(c)
			if err != tt.want {
				t.Fatalf("Create: err %v, want %v", err, tt.want)
			}
			if err == nil && id != 1 {
				t.Fatalf("id %d, want 1", id)
			}
		})
	}
}

func TestFakeCreateRawSizes(t *testing.T) {
	k := newFake(t)
	good := EncodeCreate(mkCreate(t, "a", "/cells/a"))
	reply := make([]byte, SizeofCreate)
	n := len(reply)
	if err := k.Sysctl(NodeCreate, reply, &n, good[:423]); err != syscall.EINVAL {
		t.Fatalf("423 bytes: %v", err)
	}
	if err := k.Sysctl(NodeCreate, reply, &n, append(good, 0)); err != syscall.EINVAL {
		t.Fatalf("425 bytes: %v", err)
	}
	if err := k.Sysctl(NodeCreate, nil, nil, good); err != syscall.ENOMEM {
		t.Fatalf("no reply buffer: %v", err)
	}
	short := make([]byte, 423)
	n = len(short)
	if err := k.Sysctl(NodeCreate, short, &n, good); err != syscall.ENOMEM {
		t.Fatalf("short reply buffer: %v", err)
	}
	n = len(reply)
	if err := k.Sysctl(NodeCreate, reply, &n, good); err != nil {
		t.Fatal(err)
	}
	back, _ := DecodeCreate(reply)
	if n != SizeofCreate || back.ID != 1 || CString(back.Name[:]) != "a" {
		t.Fatalf("reply: n=%d id=%d name=%q", n, back.ID, CString(back.Name[:]))
	}
}

func TestFakeCreatePrivilege(t *testing.T) {
	for _, c := range []FakeCaller{{EUID: 1000, Root: "/"}, {EUID: 0, Cell: 4, Root: "/cells/a"}} {
		k := newFake(t)
		k.SetCaller(c)
		if _, err := (Driver{k}).Create(mkCreate(t, "a", "/cells/a")); err != syscall.EPERM {
			t.Errorf("caller %+v: %v, want EPERM", c, err)
		}
	}
}

func TestFakeCreateConflictsAndIDs(t *testing.T) {
	k := newFake(t)
	d := Driver{k}
	a := mkCreate(t, "a", "/cells/a")
	a.Flags = CreatePorts
	_ = a.SetPorts([]uint16{8080, 8443})
	if id, err := d.Create(a); err != nil || id != 1 {
		t.Fatalf("create a: %d %v", id, err)
	}
	if _, err := d.Create(mkCreate(t, "a", "/cells/b")); err != syscall.EEXIST {
		t.Fatalf("duplicate name: %v", err)
	}
	b := mkCreate(t, "b", "/cells/b")
	b.Flags = CreatePorts
	_ = b.SetPorts([]uint16{9000, 8443})
	if _, err := d.Create(b); err != syscall.EEXIST {
		t.Fatalf("reserved port: %v", err)
	}
	// A failed create consumes no id; the same root may serve two cells.
	if id, err := d.Create(mkCreate(t, "b", "/cells/a")); err != nil || id != 2 {
		t.Fatalf("create b: %d %v", id, err)
	}
	if err := d.Destroy(2); err != nil {
		t.Fatal(err)
	}
	if id, err := d.Create(mkCreate(t, "b", "/cells/b")); err != nil || id != 3 {
		t.Fatalf("ids are never reused: %d %v", id, err)
	}
	prof, ports, ok := k.Profile(1)
	if !ok || prof != ProfileHigh || len(ports) != 2 || ports[0] != 8080 || ports[1] != 8443 {
		t.Fatalf("cell 1: profile %d ports %v", prof, ports)
	}
	// After destroy the ports are free again.
	if err := d.Destroy(1); err != nil {
		t.Fatal(err)
	}
	b2 := mkCreate(t, "c", "/cells/c")
	b2.Flags = CreatePorts
	_ = b2.SetPorts([]uint16{8443})
	if _, err := d.Create(b2); err != nil {
		t.Fatalf("port after destroy: %v", err)
	}
}

func TestFakeIDWrap(t *testing.T) {
	k := newFake(t)
	k.SetLastID(math.MaxUint32 - 1)
	d := Driver{k}
	if id, err := d.Create(mkCreate(t, "a", "/cells/a")); err != nil || id != math.MaxUint32 {
		t.Fatalf("last id: %d %v", id, err)
	}
	if _, err := d.Create(mkCreate(t, "b", "/cells/b")); err != syscall.EOVERFLOW {
		t.Fatalf("wrap: %v", err)
	}
}

func TestFakeDestroy(t *testing.T) {
	k := newFake(t)
	members := map[uint32]uint64{}
	k.Members = func(id uint32) uint64 { return members[id] }
	d := Driver{k}
	if _, err := d.Create(mkCreate(t, "a", "/cells/a")); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(0); err != syscall.EINVAL {
		t.Fatalf("destroy 0: %v", err)
	}
	if err := d.Destroy(9); err != syscall.ENOENT {
		t.Fatalf("destroy unknown: %v", err)
	}
	members[1] = 1
	if err := d.Destroy(1); err != syscall.EBUSY {
		t.Fatalf("destroy with a member: %v", err)
	}
	if err := k.Sysctl(NodeDestroy, nil, nil, []byte{1, 0}); err != syscall.EINVAL {
		t.Fatalf("2-byte id: %v", err)
	}
	k.SetCaller(FakeCaller{EUID: 1000, Root: "/"})
	members[1] = 0
	if err := d.Destroy(1); err != syscall.EPERM {
		t.Fatalf("unprivileged destroy: %v", err)
	}
	k.SetCaller(FakeCaller{Root: "/"})
	if err := d.Destroy(1); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(1); err != syscall.ENOENT {
		t.Fatalf("destroy twice: %v", err)
	}
}

func TestFakeDestroyBusyFromCounters(t *testing.T) {
	k := newFake(t)
	d := Driver{k}
	id, _ := d.Create(mkCreate(t, "a", "/cells/a"))
	if err := k.SetCounters(id, FakeCounters{Refcount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(id); err != syscall.EBUSY {
		t.Fatalf("zombie member: %v", err)
	}
}

func TestFakeEnter(t *testing.T) {
	k := newFake(t)
	d := Driver{k}
	id, _ := d.Create(mkCreate(t, "a", "/cells/a"))
	if err := d.Enter(id + 1); err != syscall.ENOENT {
		t.Fatalf("enter unknown: %v", err)
	}
	if err := d.Enter(id); err != syscall.EPERM {
		t.Fatalf("enter without chroot: %v", err)
	}
	if cur, err := d.Current(); err != nil || cur != 0 {
		t.Fatalf("current on host: %d %v", cur, err)
	}
	k.SetCaller(FakeCaller{Root: "/cells/a/"})
	if err := d.Enter(id); err != nil {
		t.Fatalf("enter: %v", err)
	}
	if c := k.Caller(); c.Cell != id {
		t.Fatalf("caller cell %d", c.Cell)
	}
	if err := d.Enter(id); err != nil {
		t.Fatalf("enter the own cell is a no-op: %v", err)
	}
	if _, err := d.Current(); err != syscall.EPERM {
		t.Fatalf("read inside a cell: %v", err)
	}
	id2, _ := func() (uint32, error) {
		k.SetCaller(FakeCaller{Root: "/"})
		defer k.SetCaller(FakeCaller{Cell: id, Root: "/cells/a"})
		return d.Create(mkCreate(t, "b", "/cells/a"))
	}()
	if err := d.Enter(id2); err != syscall.EPERM {
		t.Fatalf("cell to cell: %v", err)
	}
	k.SetCaller(FakeCaller{EUID: 1000, Root: "/cells/a"})
	if err := d.Enter(id); err != syscall.EPERM {
		t.Fatalf("unprivileged enter: %v", err)
	}
	if _, err := d.Current(); err != syscall.EPERM {
		t.Fatalf("unprivileged read: %v", err)
	}
}

func TestFakeListAndCounters(t *testing.T) {
	k := newFake(t)
	now := uint64(5_000_000_000)
	k.Now = func() uint64 { return now }
	d := Driver{k}
	if l, err := d.List(); err != nil || len(l) != 0 {
		t.Fatalf("empty list: %v %v", l, err)
	}
	a := mkCreate(t, "a", "/cells/a")
	a.Flags = CreateRlimitNofile | CreateRlimitCore
	a.RlimitNofile, a.RlimitCore = 256, RlimitInfinity
	d.Create(a)
	now += 3
	d.Create(mkCreate(t, "b", "/cells/b"))
	if err := k.SetCounters(2, FakeCounters{Refcount: 3, ProcCurrent: 2, MemoryBytes: 4096, CPUTicks1s: 7, CPUTicks10s: 4}); err != nil {
		t.Fatal(err)
	}
	l, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []Info{
		{ID: 1, CreateFlags: a.Flags, Name: "a", Root: "/cells/a", CreatedNS: 5_000_000_000, RlimitNofile: 256, RlimitCore: RlimitInfinity},
		{ID: 2, Name: "b", Root: "/cells/b", CreatedNS: 5_000_000_003, Refcount: 3, ProcCurrent: 2, MemoryBytes: 4096, CPUTicks1s: 7, CPUTicks10s: 4},
	}
	if len(l) != 2 || l[0] != want[0] || l[1] != want[1] {
		t.Fatalf("list:\n got %+v\nwant %+v", l, want)
	}
	if err := k.SetCounters(9, FakeCounters{}); err != syscall.ENOENT {
		t.Fatalf("counters of unknown: %v", err)
	}
}

func TestFakeListRaw(t *testing.T) {
	k := newFake(t)
	Driver{k}.Create(mkCreate(t, "a", "/cells/a"))
	Driver{k}.Create(mkCreate(t, "b", "/cells/b"))
	var n int
	if err := k.Sysctl(NodeList, nil, &n, nil); err != nil || n != 2*SizeofInfo {
		t.Fatalf("size query: %d %v", n, err)
	}
	buf := make([]byte, SizeofInfo)
	n = len(buf)
	if err := k.Sysctl(NodeList, buf, &n, nil); err != syscall.ENOMEM || n != 2*SizeofInfo {
		t.Fatalf("short buffer: %d %v", n, err)
	}
	if err := k.Sysctl(NodeList, nil, nil, []byte{0}); err != syscall.EPERM {
		t.Fatalf("write: %v", err)
	}
	k.SetCaller(FakeCaller{EUID: 1000, Root: "/"})
	if l, err := (Driver{k}).List(); err != nil || len(l) != 2 {
		t.Fatalf("unprivileged host user may list: %v %v", l, err)
	}
	k.SetCaller(FakeCaller{EUID: 0, Cell: 1, Root: "/cells/a"})
	if _, err := (Driver{k}).List(); err != syscall.EPERM {
		t.Fatalf("list inside a cell: %v", err)
	}
}

func TestFakeNameAndUnknownNode(t *testing.T) {
	k := NewFakeKernel()
	b := make([]byte, 32)
	n := len(b)
	if err := k.Sysctl(NodeName, b, &n, nil); err != nil || CString(b[:n]) != "NetBSD Cell" {
		t.Fatalf("name: %q %v", b[:n], err)
	}
	if err := k.Sysctl("security.models.cell.nope", nil, nil, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unknown node: %v", err)
	}
}

func TestFakeZeroValueUsable(t *testing.T) {
	var k FakeKernel
	k.Stat = dirs(t)
	if _, err := (Driver{&k}).Create(mkCreate(t, "a", "/cells/a")); err != nil {
		t.Fatalf("zero-value fake: %v", err)
	}
}
