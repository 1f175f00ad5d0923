//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
)

// The configurations of an exec stage and of a holder travel in a small
// binary form rather than JSON. Why: both are read by a fresh process,
// and encoding/json building its codec for the type on first use took
// about 0.2 ms of each exec's and each create's critical path.
//
// Varints for numbers and lengths, strings as length and bytes, 0/1 for
// flags and for the presence of optional parts, in field order:
//
//	stage:  argv | path | env? env | dir | cred? uid gid groups |
//	        nofile as core (set, value) | profile
//	holder: id | name | root | root_abs | profile | profile_set | ports |
//	        nofile as core | cgroup | created_ns

// lxErrConfig is a malformed stage or holder configuration.
var lxErrConfig = errors.New("malformed configuration")

// lxEnc appends the wire form of values.
type lxEnc struct{ b []byte }

func (e *lxEnc) u(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *lxEnc) str(s string) { e.u(uint64(len(s))); e.b = append(e.b, s...) }
func (e *lxEnc) strs(l []string) {
	e.u(uint64(len(l)))
	for _, s := range l {
		e.str(s)
	}
}

// flag writes v as 0 or 1 and returns it.
func (e *lxEnc) flag(v bool) bool {
	if v {
		e.u(1)
	} else {
		e.u(0)
	}
	return v
}

func (e *lxEnc) rlimits(r Rlimits) {
	for _, l := range []Rlimit{r.Nofile, r.AS, r.Core} {
		e.flag(l.Set)
		e.u(l.Value)
	}
}

// lxDec reads the wire form; the first error sticks and zero values follow.
type lxDec struct {
	b   []byte
	bad bool
}

func (d *lxDec) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uN reads a number of at most bits bits; a larger one is malformed, not
// truncated.
func (d *lxDec) uN(bits uint) uint64 {
	v := d.u()
	if v > 1<<bits-1 {
		d.bad = true
		return 0
	}
	return v
}

func (d *lxDec) flag() bool { return d.u() == 1 }

// count reads a length. Every element takes at least one byte, so a count
// larger than what is left is malformed (and no huge allocation happens).
func (d *lxDec) count() int {
	v := d.u()
	if v > uint64(len(d.b)) {
		d.bad = true
		return 0
	}
	return int(v)
}

func (d *lxDec) str() string {
	n := d.count()
	if d.bad {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *lxDec) strs() []string {
	n := d.count()
	l := make([]string, 0, n)
	for i := 0; i < n && !d.bad; i++ {
		l = append(l, d.str())
	}
	return l
}

func (d *lxDec) rlimits() (r Rlimits) {
	for _, l := range []*Rlimit{&r.Nofile, &r.AS, &r.Core} {
		l.Set = d.flag()
		l.Value = d.u()
	}
	return r
}

// end reports a malformed input or trailing bytes.
func (d *lxDec) end() error {
	if d.bad || len(d.b) != 0 {
		return lxErrConfig
	}
	return nil
}

// marshal encodes c.
func (c *lxStageConfig) marshal() []byte {
	e := &lxEnc{b: make([]byte, 0, 256)}
	e.strs(c.Argv)
	e.str(c.Path)
	if e.flag(c.Env != nil) {
		e.strs(c.Env)
	}
	e.str(c.Dir)
	if e.flag(c.Cred != nil) {
		e.u(uint64(c.Cred.UID))
		e.u(uint64(c.Cred.GID))
		e.u(uint64(len(c.Cred.Groups)))
		for _, g := range c.Cred.Groups {
			e.u(uint64(g))
		}
	}
	e.rlimits(c.Rlimits)
	e.u(uint64(c.Profile))
	return e.b
}

// unmarshal decodes b into c; trailing bytes are an error.
func (c *lxStageConfig) unmarshal(b []byte) error {
	d := &lxDec{b: b}
	c.Argv = d.strs()
	c.Path = d.str()
	if d.flag() {
		c.Env = d.strs()
	}
	c.Dir = d.str()
	if d.flag() {
		cr := &Cred{UID: uint32(d.uN(32)), GID: uint32(d.uN(32))}
		n := d.count()
		cr.Groups = make([]uint32, 0, n)
		for i := 0; i < n && !d.bad; i++ {
			cr.Groups = append(cr.Groups, uint32(d.uN(32)))
		}
		c.Cred = cr
	}
	c.Rlimits = d.rlimits()
	c.Profile = Profile(d.uN(32))
	return d.end()
}

// marshal encodes c.
func (c *lxHolderConfig) marshal() []byte {
	e := &lxEnc{b: make([]byte, 0, 256)}
	e.u(uint64(c.ID))
	e.str(c.Name)
	e.str(c.Root)
	e.str(c.RootAbs)
	e.u(uint64(c.Profile))
	e.flag(c.ProfileSet)
	e.u(uint64(len(c.Ports)))
	for _, p := range c.Ports {
		e.u(uint64(p))
	}
	e.rlimits(c.Rlimits)
	e.str(c.Cgroup)
	e.u(uint64(c.CreatedNS))
	return e.b
}

// unmarshal decodes b into c; trailing bytes are an error.
func (c *lxHolderConfig) unmarshal(b []byte) error {
	d := &lxDec{b: b}
	c.ID = uint32(d.uN(32))
	c.Name = d.str()
	c.Root = d.str()
	c.RootAbs = d.str()
	c.Profile = Profile(d.uN(32))
	c.ProfileSet = d.flag()
	if n := d.count(); n > 0 {
		c.Ports = make([]uint16, 0, n)
		for i := 0; i < n && !d.bad; i++ {
			c.Ports = append(c.Ports, uint16(d.uN(16)))
		}
	}
	c.Rlimits = d.rlimits()
	c.Cgroup = d.str()
	c.CreatedNS = int64(d.u())
	return d.end()
}
