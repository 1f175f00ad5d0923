package cellabi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// The golden layouts below are written with literal offsets from reference
// §8.2 (computed by the C compiler upstream), not with this package's
// constants, so a wrong constant cannot hide itself.

func requireLittleEndian(t *testing.T) {
	t.Helper()
	if ByteOrder.Uint16([]byte{1, 0}) != 1 {
		t.Skip("golden bytes are little-endian; this host is big-endian")
	}
}

// put writes v little-endian in n bytes at off, by hand.
func put(b []byte, off int, v uint64, n int) {
	for i := 0; i < n; i++ {
		b[off+i] = byte(v >> (8 * i))
	}
}

func goldenCreate() []byte {
	w := make([]byte, 424)
	put(w, 0, 0x1f, 4)         // cc_flags: every flag
	put(w, 4, 0x01020304, 4)   // cc_id
	put(w, 8, 2, 4)            // cc_profile HIGH
	put(w, 12, 3, 2)           // cc_nports
	put(w, 14, 8080, 2)        // cc_ports[0]
	put(w, 16, 443, 2)         // cc_ports[1]
	put(w, 18, 0xfffe, 2)      // cc_ports[2]
	put(w, 14+31*2, 0xabcd, 2) // cc_ports[31] (count says 3; the array is copied whole)
	// 78..79 padding stays zero
	put(w, 80, 4096, 8)               // cc_rlimit_nofile
	put(w, 88, 1073741824, 8)         // cc_rlimit_as
	put(w, 96, 0xffffffffffffffff, 8) // cc_rlimit_core = INFINITY
	copy(w[104:], "web")
	copy(w[168:], "/var/cellman/cells/web/root")
	return w
}

func TestEncodeCreateGolden(t *testing.T) {
	requireLittleEndian(t)
	c := &Create{Flags: 0x1f, ID: 0x01020304, Profile: 2, RlimitNofile: 4096, RlimitAS: 1073741824, RlimitCore: RlimitInfinity}
	if err := c.SetPorts([]uint16{8080, 443, 0xfffe}); err != nil {
		t.Fatal(err)
	}
	c.Ports[31] = 0xabcd
	if err := c.SetName("web"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRoot("/var/cellman/cells/web/root"); err != nil {
		t.Fatal(err)
	}
	got := EncodeCreate(c)
	want := goldenCreate()
	if !bytes.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("EncodeCreate: first difference at offset %d: got %#x want %#x", i, got[i], want[i])
			}
		}
		t.Fatalf("EncodeCreate: length %d want %d", len(got), len(want))
	}
	back, err := DecodeCreate(want)
	if err != nil {
		t.Fatal(err)
	}
	if *back != *c {
		t.Fatalf("DecodeCreate(golden) = %+v, want %+v", back, c)
	}
	if CString(back.Name[:]) != "web" || CString(back.Root[:]) != "/var/cellman/cells/web/root" {
		t.Fatalf("names: %q %q", CString(back.Name[:]), CString(back.Root[:]))
	}
}

func TestCreatePaddingIgnoredAndZeroed(t *testing.T) {
	w := goldenCreate()
	w[78], w[79] = 0xaa, 0xbb
	c, err := DecodeCreate(w)
	if err != nil {
		t.Fatal(err)
	}
	out := EncodeCreate(c)
	if out[78] != 0 || out[79] != 0 {
		t.Fatalf("padding not zeroed: %#x %#x", out[78], out[79])
	}
}

func TestDecodeCreateSize(t *testing.T) {
	for _, n := range []int{0, 423, 425, 432} {
		if _, err := DecodeCreate(make([]byte, n)); err == nil {
			t.Errorf("DecodeCreate(%d bytes): no error", n)
		}
	}
}

func TestCStringLimits(t *testing.T) {
	var c Create
	if err := c.SetName(strings.Repeat("a", 63)); err != nil {
		t.Fatalf("63-byte name: %v", err)
	}
	if c.Name[63] != 0 {
		t.Fatal("name not NUL-terminated")
	}
	if err := c.SetName(strings.Repeat("a", 64)); !errors.Is(err, ErrCString) {
		t.Fatalf("64-byte name: %v", err)
	}
	if err := c.SetRoot("/" + strings.Repeat("r", 254)); err != nil {
		t.Fatalf("255-byte root: %v", err)
	}
	if err := c.SetRoot("/" + strings.Repeat("r", 255)); !errors.Is(err, ErrCString) {
		t.Fatalf("256-byte root: %v", err)
	}
	if err := c.SetName("a\x00b"); !errors.Is(err, ErrCString) {
		t.Fatalf("NUL in name: %v", err)
	}
	// A shorter name replaces a longer one completely.
	_ = c.SetName("longername")
	_ = c.SetName("ab")
	if CString(c.Name[:]) != "ab" || c.Name[3] != 0 {
		t.Fatalf("SetName left bytes: %q", c.Name[:12])
	}
	if err := c.SetPorts(make([]uint16, 33)); err == nil {
		t.Fatal("33 ports accepted")
	}
}

func goldenInfo(id uint32, name string) []byte {
	w := make([]byte, 400)
	put(w, 0, uint64(id), 4)           // ci_id
	put(w, 4, 0x14, 4)                 // ci_create_flags: NOFILE|CORE
	put(w, 8, 7, 8)                    // ci_refcount
	copy(w[16:], name)                 // ci_name
	copy(w[80:], "/cells/"+name)       // ci_root
	put(w, 336, 123456789012, 8)       // ci_created_ns
	put(w, 344, 5, 8)                  // ci_proc_current
	put(w, 352, 1<<33, 8)              // ci_memory_current
	put(w, 360, 17, 8)                 // ci_cpu_ticks_1s
	put(w, 368, 9, 8)                  // ci_cpu_ticks_10s
	put(w, 376, 1024, 8)               // ci_rlimit_nofile
	put(w, 384, 0, 8)                  // ci_rlimit_as
	put(w, 392, 0xffffffffffffffff, 8) // ci_rlimit_core
	return w
}

func wantInfo(id uint32, name string) Info {
	return Info{ID: id, CreateFlags: 0x14, Refcount: 7, Name: name, Root: "/cells/" + name,
		CreatedNS: 123456789012, ProcCurrent: 5, MemoryBytes: 1 << 33, CPUTicks1s: 17, CPUTicks10s: 9,
		RlimitNofile: 1024, RlimitAS: 0, RlimitCore: RlimitInfinity}
}

func TestInfoGolden(t *testing.T) {
	requireLittleEndian(t)
	raw := append(goldenInfo(1, "web"), goldenInfo(0x80000002, strings.Repeat("n", 63))...)
	got, err := DecodeInfoList(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []Info{wantInfo(1, "web"), wantInfo(0x80000002, strings.Repeat("n", 63))}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("DecodeInfoList:\n got %+v\nwant %+v", got, want)
	}
	enc, err := EncodeInfo(&want[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, raw[:400]) {
		t.Fatal("EncodeInfo differs from the golden layout")
	}
}

func TestDecodeInfoListLength(t *testing.T) {
	if l, err := DecodeInfoList(nil); err != nil || len(l) != 0 {
		t.Fatalf("empty list: %v %v", l, err)
	}
	for _, n := range []int{1, 399, 401, 799} {
		_, err := DecodeInfoList(make([]byte, n))
		if !errors.Is(err, ErrListLength) || err.Error() != "unexpected cell list length" {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
}

func TestInfoNameWithoutNUL(t *testing.T) {
	// A kernel bug filling the whole array must not overrun into ci_root.
	w := goldenInfo(3, "x")
	for i := 16; i < 80; i++ {
		w[i] = 'z'
	}
	i, err := DecodeInfo(w)
	if err != nil {
		t.Fatal(err)
	}
	if i.Name != strings.Repeat("z", 64) || i.Root != "/cells/x" {
		t.Fatalf("name %q root %q", i.Name, i.Root)
	}
}

func TestByteOrderIsNative(t *testing.T) {
	var x uint16 = 0x0102
	b := make([]byte, 2)
	binary.NativeEndian.PutUint16(b, x)
	if ByteOrder.Uint16(b) != x {
		t.Fatal("ByteOrder is not the host's")
	}
}
