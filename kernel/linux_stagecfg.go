//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
)

// The exec stage's configuration travels in a small binary form rather
// than JSON. Why: the stage is a fresh process for every exec, and
// encoding/json building its codec for lxStageConfig on first use took
// about 0.2 ms of each exec's critical path.
//
// Layout: varints for numbers and lengths, strings as length and bytes:
//
//	argv (count, strings) | path | env present (0/1) + argv-like env |
//	dir | cred present (0/1) [uid gid groups count, groups] |
//	nofile, as, core (set 0/1, value) | profile

// lxErrStageConfig is a malformed stage configuration.
var lxErrStageConfig = errors.New("malformed stage configuration")

// marshal encodes c.
func (c *lxStageConfig) marshal() []byte {
	b := make([]byte, 0, 256)
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	str := func(s string) { u(uint64(len(s))); b = append(b, s...) }
	strs := func(l []string) {
		u(uint64(len(l)))
		for _, s := range l {
			str(s)
		}
	}
	flag := func(v bool) bool {
		if v {
			u(1)
		} else {
			u(0)
		}
		return v
	}
	strs(c.Argv)
	str(c.Path)
	if flag(c.Env != nil) {
		strs(c.Env)
	}
	str(c.Dir)
	if flag(c.Cred != nil) {
		u(uint64(c.Cred.UID))
		u(uint64(c.Cred.GID))
		u(uint64(len(c.Cred.Groups)))
		for _, g := range c.Cred.Groups {
			u(uint64(g))
		}
	}
	for _, r := range []Rlimit{c.Rlimits.Nofile, c.Rlimits.AS, c.Rlimits.Core} {
		flag(r.Set)
		u(r.Value)
	}
	u(uint64(c.Profile))
	return b
}

// unmarshal decodes b into c; trailing bytes are an error.
func (c *lxStageConfig) unmarshal(b []byte) error {
	bad := false
	u := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	u32 := func() uint32 {
		v := u()
		if v > 1<<32-1 {
			bad = true
		}
		return uint32(v)
	}
	count := func() int {
		// Every element takes at least one byte: a count larger than
		// what is left is malformed (and no huge allocation happens).
		v := u()
		if v > uint64(len(b)) {
			bad = true
			return 0
		}
		return int(v)
	}
	str := func() string {
		n := count()
		if bad {
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	strs := func() []string {
		n := count()
		l := make([]string, 0, n)
		for i := 0; i < n && !bad; i++ {
			l = append(l, str())
		}
		return l
	}
	c.Argv = strs()
	c.Path = str()
	if u() == 1 {
		c.Env = strs()
	}
	c.Dir = str()
	if u() == 1 {
		cr := &Cred{UID: u32(), GID: u32()}
		n := count()
		cr.Groups = make([]uint32, 0, n)
		for i := 0; i < n && !bad; i++ {
			cr.Groups = append(cr.Groups, u32())
		}
		c.Cred = cr
	}
	for _, r := range []*Rlimit{&c.Rlimits.Nofile, &c.Rlimits.AS, &c.Rlimits.Core} {
		r.Set = u() == 1
		r.Value = u()
	}
	c.Profile = Profile(u32())
	if bad || len(b) != 0 {
		return lxErrStageConfig
	}
	return nil
}
