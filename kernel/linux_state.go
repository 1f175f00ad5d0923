//go:build linux

package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lxRecord is the persistent record of one cell, StateDir/cells/<id>.json.
type lxRecord struct {
	ID          uint32   `json:"id"`
	Name        string   `json:"name"`
	Root        string   `json:"root"`
	Profile     Profile  `json:"profile"`
	ProfileSet  bool     `json:"profile_set"`
	Ports       []uint16 `json:"ports,omitempty"`
	Rlimits     Rlimits  `json:"rlimits"`
	HolderPid   int      `json:"holder_pid"`
	HolderStart uint64   `json:"holder_start"` // starttime of /proc/<pid>/stat, detects pid reuse
	Cgroup      string   `json:"cgroup"`       // absolute cgroup v2 directory
	CgroupID    uint64   `json:"cgroup_id"`    // its inode number (portguard owner)
	CreatedNS   int64    `json:"created_ns"`   // CLOCK_MONOTONIC at creation, as upstream
	Created     string   `json:"created"`      // wall clock, RFC 3339, for humans
}

// lxState is the driver's directory: lock, id counter, records, sockets.
type lxState struct {
	dir string
}

func (s lxState) cellsDir() string { return filepath.Join(s.dir, "cells") }
func (s lxState) runDir() string   { return filepath.Join(s.dir, "run") }
func (s lxState) recordPath(id uint32) string {
	return filepath.Join(s.cellsDir(), fmt.Sprintf("%d.json", id))
}
func (s lxState) logPath(id uint32) string {
	return filepath.Join(s.cellsDir(), fmt.Sprintf("%d.log", id))
}
func (s lxState) sockName(id uint32) string { return fmt.Sprintf("%d.sock", id) }

// init creates the directories. Records, logs, the lock and the id
// counter are root-only; the state directory (and its parent) can be
// passed through and run/ listed by anyone, so that any host user can list
// the cells, as upstream allows: a holder answers "stats" to anyone and
// every other request to root only.
func (s lxState) init() error {
	// Missing ancestors (<prefix>/var/cellman, ...) are made 0755, as
	// directories of /var are.
	for _, d := range []string{s.dir, s.cellsDir(), s.runDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("linux kernel: state: %w", err)
		}
	}
	for d, mode := range map[string]os.FileMode{s.dir: 0o711, s.cellsDir(): 0o700, s.runDir(): 0o755} {
		if err := os.Chmod(d, mode); err != nil {
			return fmt.Errorf("linux kernel: state: %w", err)
		}
	}
	// Its ancestors are left as they are (made 0755 above when missing):
	// one not open to others keeps them from listing, as before.
	return nil
}

// lock takes the exclusive state lock (flock, released when the process
// dies, so no stale lock survives a crash).
func (s lxState) lock() (unlock func(), err error) {
	fd, err := unix.Open(filepath.Join(s.dir, "lock"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("linux kernel: state lock: %w", err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("linux kernel: state lock: %w", err)
	}
	return func() { unix.Close(fd) }, nil
}

// nextID returns a fresh id and persists the counter; the caller holds the
// lock. Ids are never reused, even after every cell is gone.
func (s lxState) nextID() (uint32, error) {
	p := filepath.Join(s.dir, "last-id")
	var last uint64
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		last, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("linux kernel: id counter %s: corrupt: %w", p, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return 0, fmt.Errorf("linux kernel: id counter: %w", err)
	}
	// Records may be newer than a lost counter file: never go below them.
	recs, _ := s.records()
	for _, r := range recs {
		if uint64(r.ID) > last {
			last = uint64(r.ID)
		}
	}
	if last >= math.MaxUint32 {
		return 0, lxErrorf(ErrInvalid, unix.EOVERFLOW, "cell ids exhausted")
	}
	id := uint32(last + 1)
	if err := lxWriteAtomic(p, []byte(strconv.FormatUint(uint64(id), 10)+"\n")); err != nil {
		return 0, fmt.Errorf("linux kernel: id counter: %w", err)
	}
	return id, nil
}

// records reads every cell record, ordered by id.
func (s lxState) records() ([]lxRecord, error) {
	ents, err := os.ReadDir(s.cellsDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("linux kernel: records: %w", err)
	}
	var out []lxRecord
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(e.Name(), ".json"), 10, 32)
		if err != nil {
			continue
		}
		r, err := s.record(uint32(id))
		if err != nil {
			continue // vanished meanwhile or half written by a crash: skip
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s lxState) record(id uint32) (lxRecord, error) {
	var r lxRecord
	b, err := os.ReadFile(s.recordPath(id))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("linux kernel: record %d: %w", id, err)
	}
	return r, nil
}

func (s lxState) writeRecord(r lxRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return lxWriteAtomic(s.recordPath(r.ID), append(b, '\n'))
}

// remove deletes the record, socket and log of a cell.
func (s lxState) remove(id uint32) {
	os.Remove(filepath.Join(s.runDir(), s.sockName(id)))
	os.Remove(s.logPath(id))
	os.Remove(s.recordPath(id))
}

// lxWriteAtomic replaces a file atomically: temp file in the same
// directory, rename. Readers see the old or the new content, never a mix.
//
// No fsync: the records and the id counter must survive restarts of the
// tools, not of the host. A crash of the host ends every cell with it (the
// holders die), and upstream's kernel restarts its ids at boot too; the
// two fsyncs per write would double the cost of a create on ordinary disks.
func lxWriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lxErrorf is a driver error matching a sentinel and an errno.
func lxErrorf(sentinel error, errno unix.Errno, format string, args ...any) error {
	return errnof("linux kernel: ", sentinel, errno, format, args...)
}
