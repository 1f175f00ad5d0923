//go:build linux

package kernel

import (
	"encoding/binary"
	"reflect"
	"testing"
)

func TestStageConfigRoundTrip(t *testing.T) {
	cases := []lxStageConfig{
		{Argv: []string{"/bin/true"}},
		{Argv: []string{"sh", "-c", "echo ü\x00x", ""}, Path: "/bin/sh", Env: []string{}, Dir: "/tmp"},
		{Argv: []string{"id"}, Env: []string{"PATH=/bin", "A="}, Cred: &Cred{UID: 1000, GID: 4294967295, Groups: []uint32{}}},
		{Argv: []string{"x"}, Cred: &Cred{UID: 0, GID: 0, Groups: []uint32{1, 2, 4294967295}},
			Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 64}, AS: Rlimit{Set: true, Value: RlimitInfinity}, Core: Rlimit{Set: true}},
			Profile: ProfileHigh},
	}
	for i, c := range cases {
		var got lxStageConfig
		if err := got.unmarshal(c.marshal()); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("case %d: got %#v, want %#v", i, got, c)
		}
	}
	// nil and empty environments stay apart: nil means the default one.
	var got lxStageConfig
	if got.unmarshal((&lxStageConfig{Argv: []string{"x"}}).marshal()); got.Env != nil {
		t.Errorf("nil env decoded as %#v", got.Env)
	}
}

func TestStageConfigMalformed(t *testing.T) {
	full := (&lxStageConfig{Argv: []string{"a", "bc"}, Env: []string{"X=1"}, Dir: "/",
		Cred: &Cred{UID: 1, GID: 2, Groups: []uint32{3}}, Profile: ProfileLow}).marshal()
	// Every truncation is refused, and so is a trailing byte.
	for n := 0; n < len(full); n++ {
		var c lxStageConfig
		if err := c.unmarshal(full[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: accepted as %#v", n, len(full), c)
		}
	}
	var c lxStageConfig
	if err := c.unmarshal(append(full[:len(full):len(full)], 0)); err == nil {
		t.Error("trailing byte accepted")
	}
	// A huge count fails without allocating for it.
	if err := c.unmarshal([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("huge argv count accepted")
	}
	// A uid beyond 32 bits is refused, not truncated.
	bad := []byte{1, 1, 'a', 0, 0, 0, 1}   // argv [a], path, no env, dir, cred:
	bad = binary.AppendUvarint(bad, 1<<32) // uid
	bad = append(bad, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if err := c.unmarshal(bad); err == nil {
		t.Errorf("uid 1<<32 accepted as %d", c.Cred.UID)
	}
	good := []byte{1, 1, 'a', 0, 0, 0, 1}
	good = binary.AppendUvarint(good, 1<<32-1)
	good = append(good, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	if err := c.unmarshal(good); err != nil || c.Cred.UID != 1<<32-1 {
		t.Errorf("uid 1<<32-1: %v, %+v", err, c.Cred)
	}
}

func TestHolderConfigRoundTrip(t *testing.T) {
	cases := []lxHolderConfig{
		{ID: 1, Name: "a", Root: "r", RootAbs: "/r", Cgroup: "/sys/fs/cgroup/cells-x/1"},
		{ID: 4294967295, Name: "web-1", Root: "./srv/ü", RootAbs: "/srv/ü", Profile: ProfileHigh, ProfileSet: true,
			Ports: []uint16{1, 80, 65535}, Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 1024}, AS: Rlimit{Set: true, Value: RlimitInfinity}},
			Cgroup: "/c", CreatedNS: 1<<62 + 5},
	}
	for i, c := range cases {
		var got lxHolderConfig
		if err := got.unmarshal(c.marshal()); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("case %d: got %#v, want %#v", i, got, c)
		}
	}
	full := cases[1].marshal()
	for n := 0; n < len(full); n++ {
		var c lxHolderConfig
		if err := c.unmarshal(full[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: accepted", n, len(full))
		}
	}
	// A port beyond 16 bits is refused, not truncated.
	e := &lxEnc{}
	e.u(1)
	e.str("a")
	e.str("r")
	e.str("/r")
	e.u(0)
	e.flag(false)
	e.u(1)
	e.u(65536)
	e.rlimits(Rlimits{})
	e.str("/c")
	e.u(0)
	var c lxHolderConfig
	if err := c.unmarshal(e.b); err == nil {
		t.Errorf("port 65536 accepted as %v", c.Ports)
	}
}
