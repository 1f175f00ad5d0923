package spec

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Hash domains: the first field of every hash, so two kinds of hash never
// collide and an encoding change bumps the version.
const (
	DomainService  = "cells/service/v1"
	DomainPolicy   = "cells/policy/v1"
	DomainManifest = "cells/manifest/v1"
	DomainApply    = "cells/apply/v1"
)

// Hashes are the per-cell drift hashes, 64 lowercase hex digits each.
type Hashes struct {
	Service  string // supervise, healthcheck, autostart, depends_on, mounts
	Policy   string // create: profile, reserved ports, rlimits
	Manifest string // name + service + policy
}

// encoder writes the canonical encoding (cellman-spec(5), HASHES):
// integers are 8-byte big-endian, strings are their length then their
// bytes, lists their count then their items, digests 32 raw bytes, and
// Values a one-byte tag then their payload.
type encoder struct{ h hash.Hash }

func newEncoder(domain string) *encoder {
	e := &encoder{h: sha256.New()}
	e.str(domain)
	return e
}

func (e *encoder) u64(n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	e.h.Write(b[:])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	io.WriteString(e.h, s)
}

func (e *encoder) list(l []string) {
	e.u64(uint64(len(l)))
	for _, s := range l {
		e.str(s)
	}
}

func (e *encoder) raw(b []byte) { e.h.Write(b) }

// Value tags.
const (
	tagString  = 's'
	tagInt     = 'i'
	tagBool    = 'b'
	tagList    = 'l'
	tagMap     = 'm'
	tagFromEnv = 'e'
)

func (e *encoder) value(v Value) {
	switch v := v.(type) {
	case String:
		e.raw([]byte{tagString})
		e.str(string(v))
	case Int:
		e.raw([]byte{tagInt})
		e.u64(uint64(int64(v)))
	case Bool:
		b := byte(0)
		if v {
			b = 1
		}
		e.raw([]byte{tagBool, b})
	case List:
		e.raw([]byte{tagList})
		e.u64(uint64(len(v)))
		for _, x := range v {
			e.value(x)
		}
	case Map:
		e.valueMap(v)
	case FromEnv:
		e.raw([]byte{tagFromEnv})
		e.str(string(v))
	default:
		// Decoded trees never hold nil; encode it with its own tag rather
		// than panic, so a hand-built Action still hashes.
		e.raw([]byte{'n'})
	}
}

func (e *encoder) valueMap(m map[string]Value) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // bytewise
	e.raw([]byte{tagMap})
	e.u64(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.value(m[k])
	}
}

func (e *encoder) sum() []byte { return e.h.Sum(nil) }

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// CellHashes returns the service, policy and manifest hashes of c. They
// cover the same inputs as upstream's (reference 4.4), with SHA-256 over
// the canonical encoding; the site (file:line) is not part of them.
func (s *State) CellHashes(c *Cell) Hashes {
	sv := newEncoder(DomainService)
	sv.str(c.Name)
	sv.str(yesNo(c.Autostart))
	sv.str(c.Supervise.Cmd)
	sv.str(c.Supervise.RunAs)
	sv.str(c.Supervise.Log.Facility)
	sv.str(c.Supervise.Log.StdoutLevel)
	sv.str(c.Supervise.Log.StderrLevel)
	sv.str(c.Supervise.Log.Tag)
	sv.str(c.Healthcheck)
	sv.list(c.DependsOn)
	mounts := make([]string, len(c.Mounts))
	for i, m := range c.Mounts {
		mounts[i] = m.String()
	}
	sv.list(mounts)
	service := sv.sum()

	po := newEncoder(DomainPolicy)
	po.str(c.Name)
	po.str(c.Create.Profile)
	po.str(c.Create.ReservedPorts)
	po.str(c.Create.RlimitNofile)
	po.str(c.Create.RlimitAS)
	po.str(c.Create.RlimitCore)
	policy := po.sum()

	ma := newEncoder(DomainManifest)
	ma.str(c.Name)
	ma.raw(service)
	ma.raw(policy)
	return Hashes{
		Service:  hex.EncodeToString(service),
		Policy:   hex.EncodeToString(policy),
		Manifest: hex.EncodeToString(ma.sum()),
	}
}

// ResolveSource returns where the source file src of an action of a is
// read from (relative paths resolve against the directory of the apply's
// .lua file; absolute ones are used as they are) and the path the apply
// hash records: relative to the DSL directory, slash-separated, so moving
// the directory keeps the hash; absolute sources are recorded as they are.
func (s *State) ResolveSource(a *Apply, src string) (path, canonical string) {
	if filepath.IsAbs(src) {
		return src, filepath.ToSlash(src)
	}
	path = filepath.Join(filepath.Dir(a.Site.File), src)
	rel, err := filepath.Rel(filepath.Clean(s.Dir), path)
	if err != nil {
		rel = filepath.Clean(src)
	}
	return path, filepath.ToSlash(rel)
}

// docPath is the .lua file of a document relative to the DSL directory.
func (s *State) docPath(file string) string {
	rel, err := filepath.Rel(filepath.Clean(s.Dir), filepath.Clean(file))
	if err != nil {
		return filepath.ToSlash(filepath.Base(file))
	}
	return filepath.ToSlash(rel)
}

// ApplyHash returns the hash of an apply document: its name, its .lua file
// relative to the DSL directory, every action's kind and canonical Args,
// and for each source file (Action.Sources) its recorded path and the
// SHA-256 of its bytes. A source that cannot be read fails with
// "cannot open <path>: <err>".
func (s *State) ApplyHash(a *Apply) (string, error) {
	e := newEncoder(DomainApply)
	e.str(a.Name)
	e.str(s.docPath(a.Site.File))
	e.u64(uint64(len(a.Actions)))
	for i := range a.Actions {
		act := &a.Actions[i]
		e.str(act.Kind)
		e.valueMap(act.Args)
		e.u64(uint64(len(act.Sources)))
		for _, field := range act.Sources {
			src, ok := act.Args[field].(String)
			if !ok {
				return "", fmt.Errorf("apply %s: action %d (%s): source field %s is not a string", a.Name, i+1, act.Kind, field)
			}
			path, canonical := s.ResolveSource(a, string(src))
			sum, err := fileDigest(path)
			if err != nil {
				return "", err
			}
			e.str(field)
			e.str(canonical)
			e.raw(sum)
		}
	}
	return hex.EncodeToString(e.sum()), nil
}

func fileDigest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot open %s: %v", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	return h.Sum(nil), nil
}
