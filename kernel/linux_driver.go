//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lxDriver is the Linux cell driver. See DESIGN.md "Kernel bridge" and
// linux_profile.go for the policy mapping.
type lxDriver struct {
	st     lxState
	cgRoot string // cgroup v2 mount
	cgBase string // parent cgroup of this state directory's cells
	runFD  int    // O_PATH descriptor of StateDir/run (socket paths stay short)
	log    io.Writer
	// readOnly: opened by a user other than root, who may list cells and
	// their counters (as upstream's list sysctl allows any host user) but
	// not create, destroy or enter them.
	readOnly bool
}

// lxOpen opens the driver on opts.StateDir.
func lxOpen(opts Options) (Driver, error) {
	if opts.StateDir == "" {
		return nil, lxErrorf(ErrInvalid, unix.EINVAL, "open: empty state directory")
	}
	dir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("linux kernel: open: %w", err)
	}
	d := &lxDriver{st: lxState{dir: dir}, log: opts.Log, runFD: -1}
	if d.log == nil {
		d.log = io.Discard
	}
	if os.Geteuid() != 0 {
		d.readOnly = true
		// A state directory that does not exist (yet) holds no cells;
		// one not open to others (made before 0711) is refused at List.
		if d.runFD, err = unix.Open(d.st.runDir(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil && err != unix.ENOENT {
			d.runFD = -1
		}
		return d, nil
	}
	if d.cgRoot, err = lxCgroupRoot(); err != nil {
		return nil, err
	}
	d.cgBase = lxCgroupParent(d.cgRoot, dir)
	if err := d.st.init(); err != nil {
		return nil, err
	}
	if d.runFD, err = unix.Open(d.st.runDir(), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("linux kernel: open: %w", err)
	}
	return d, nil
}

func (d *lxDriver) Name() string { return "linux" }

func (d *lxDriver) Close() error {
	if d.runFD >= 0 {
		unix.Close(d.runFD)
		d.runFD = -1
	}
	return nil
}

// sockAddr names a cell's socket through /proc/self/fd, so the path fits
// sun_path however long the state directory is.
func (d *lxDriver) sockAddr(id uint32) string {
	return fmt.Sprintf("/proc/self/fd/%d/%s", d.runFD, d.st.sockName(id))
}

// lxValidate checks spec as secmodel_cell does.
func lxValidate(spec CreateSpec) error {
	if !ValidName(spec.Name) {
		return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %q: invalid name", spec.Name)
	}
	if spec.Root == "" || len(spec.Root) > RootMax {
		return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: invalid root length %d", spec.Name, len(spec.Root))
	}
	for i := 0; i < len(spec.Root); i++ {
		if c := spec.Root[i]; c < 0x20 || c == 0x7f {
			return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: control character in root", spec.Name)
		}
	}
	if spec.ProfileSet && spec.Profile > ProfileHigh {
		return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: invalid profile %d", spec.Name, uint32(spec.Profile))
	}
	if len(spec.Ports) > PortsMax {
		return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: %d reserved ports (max %d)", spec.Name, len(spec.Ports), PortsMax)
	}
	seen := map[uint16]bool{}
	for _, p := range spec.Ports {
		if p == 0 || seen[p] {
			return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: invalid or duplicate reserved port %d", spec.Name, p)
		}
		seen[p] = true
	}
	for _, r := range []Rlimit{spec.Rlimits.Nofile, spec.Rlimits.AS, spec.Rlimits.Core} {
		if !r.Set && r.Value != 0 {
			return lxErrorf(ErrInvalid, unix.EINVAL, "create cell %s: rlimit value without its flag", spec.Name)
		}
	}
	return nil
}

// Create validates spec, allocates an id, makes the cgroup, reserves the
// ports and starts the holder, which sets the cell's root up; the cell
// exists once the holder reported ready.
func (d *lxDriver) Create(spec CreateSpec) (uint32, error) {
	if err := lxValidate(spec); err != nil {
		return 0, err
	}
	if d.readOnly {
		return 0, lxErrorf(ErrPermission, unix.EPERM, "create cell %s: cells need root", spec.Name)
	}
	root, err := filepath.Abs(spec.Root)
	if err != nil {
		return 0, fmt.Errorf("linux kernel: create cell %s: root: %w", spec.Name, err)
	}
	fi, err := os.Stat(root)
	switch {
	case err != nil:
		return 0, lxErrorf(ErrInvalid, lxErrnoOf(err), "create cell %s: root %s: %v", spec.Name, spec.Root, lxErrnoOf(err))
	case !fi.IsDir():
		return 0, lxErrorf(ErrInvalid, unix.ENOTDIR, "create cell %s: root %s: not a directory", spec.Name, spec.Root)
	}
	unlock, err := d.st.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	live, err := d.liveRecordsLocked()
	if err != nil {
		return 0, err
	}
	for _, r := range live {
		if r.Name == spec.Name {
			return 0, lxErrorf(ErrExist, unix.EEXIST, "create cell %s: name exists (cell %d)", spec.Name, r.ID)
		}
		for _, p := range r.Ports {
			for _, q := range spec.Ports {
				if p == q {
					return 0, lxErrorf(ErrExist, unix.EEXIST, "create cell %s: port %d reserved by cell %d", spec.Name, p, r.ID)
				}
			}
		}
	}
	id, err := d.st.nextID()
	if err != nil {
		return 0, err
	}
	profile := ProfileHigh
	if spec.ProfileSet {
		profile = spec.Profile
	}
	rec := lxRecord{
		ID: id, Name: spec.Name, Root: spec.Root, Profile: profile, ProfileSet: spec.ProfileSet,
		Ports: append([]uint16(nil), spec.Ports...), Rlimits: spec.Rlimits,
		Cgroup:    filepath.Join(d.cgBase, strconv.FormatUint(uint64(id), 10)),
		CreatedNS: lxMonotonicNS(), Created: time.Now().UTC().Format(time.RFC3339),
	}
	cgfd, cgid, err := lxCgroupCreate(rec.Cgroup)
	if err != nil {
		return 0, err
	}
	defer unix.Close(cgfd)
	rec.CgroupID = cgid
	undo := func() {
		lxPortsRelease(rec)
		lxCgroupRemove(rec.Cgroup)
		d.st.remove(id)
	}
	if err := lxPortsReserve(rec); err != nil {
		lxCgroupRemove(rec.Cgroup)
		return 0, err
	}
	// Recorded before the holder starts, without a holder pid: if this
	// process dies from here on, the next call finds a dead cell and frees
	// its cgroup and ports (the holder waits for the commit below and ends
	// without it).
	if err := d.st.writeRecord(rec); err != nil {
		undo()
		return 0, fmt.Errorf("linux kernel: create cell %s: record: %w", spec.Name, err)
	}
	pid, commit, err := d.startHolder(&rec, root, cgfd)
	if err != nil {
		undo()
		return 0, err
	}
	defer commit.Close()
	rec.HolderPid = pid
	rec.HolderStart = lxProcStart(pid)
	if err := d.st.writeRecord(rec); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		undo()
		return 0, fmt.Errorf("linux kernel: create cell %s: record: %w", spec.Name, err)
	}
	if _, err := commit.Write([]byte{'c'}); err != nil {
		syscall.Kill(pid, syscall.SIGKILL)
		undo()
		return 0, fmt.Errorf("linux kernel: create cell %s: commit: %w", spec.Name, err)
	}
	fmt.Fprintf(d.log, "linux kernel: created cell id=%d name=%q root=%q profile=%d holder=%d\n", id, spec.Name, spec.Root, profile, pid)
	return id, nil
}

// startHolder starts "cells-init holder" as PID 1 of new PID, mount, UTS
// and IPC namespaces, directly inside the cell's cgroup (clone3 with
// CLONE_INTO_CGROUP, so no process of the cell ever runs outside it), and
// waits until it reports its root ready. The holder then waits for one
// byte on the returned commit pipe before it serves anything.
func (d *lxDriver) startHolder(rec *lxRecord, root string, cgfd int) (int, *os.File, error) {
	fail := func(what string, err error) (int, *os.File, error) {
		return 0, nil, fmt.Errorf("linux kernel: create cell %s: %s: %w", rec.Name, what, err)
	}
	exe, err := lxSealedSelf()
	if err != nil {
		return fail("holder", err)
	}
	defer unix.Close(exe)
	ln, err := d.listen(rec.ID)
	if err != nil {
		return fail("socket", err)
	}
	defer ln.Close()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return fail("pipe", err)
	}
	defer cfgR.Close()
	defer cfgW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fail("pipe", err)
	}
	defer readyR.Close()
	defer readyW.Close()
	commitR, commitW, err := os.Pipe()
	if err != nil {
		return fail("pipe", err)
	}
	defer commitR.Close()
	committed := false
	defer func() {
		if !committed {
			commitW.Close()
		}
	}()
	logf, err := os.OpenFile(d.st.logPath(rec.ID), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fail("log", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fail("holder", err)
	}
	defer devnull.Close()
	cfg := lxHolderConfig{
		ID: rec.ID, Name: rec.Name, Root: rec.Root, RootAbs: root, Profile: rec.Profile, ProfileSet: rec.ProfileSet,
		Ports: rec.Ports, Rlimits: rec.Rlimits, Cgroup: rec.Cgroup, CreatedNS: rec.CreatedNS,
	}
	b := cfg.marshal()
	// Written before the fork when it surely fits the pipe (a pipe holds
	// at least a page), so the holder finds it at once.
	early := len(b) <= 4096
	if early {
		cfgW.Write(b)
	}
	// syscall.ForkExec, not os.StartProcess: the first os.StartProcess of
	// a process probes clone(CLONE_PIDFD) by forking a child that exits at
	// once, a few hundred microseconds on the create path.
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   lxHolderEnv,
		Files: []uintptr{cfgR.Fd(), devnull.Fd(), logf.Fd(), ln.Fd(), readyW.Fd(), commitR.Fd()},
		Sys: &syscall.SysProcAttr{
			Setsid:      true,
			Cloneflags:  unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
			UseCgroupFD: true,
			CgroupFD:    cgfd,
		},
	}
	pid, err := syscall.ForkExec(fmt.Sprintf("/proc/self/fd/%d", exe), []string{InitArg0, "holder", rec.Name}, attr)
	if err != nil {
		return fail("start holder", err)
	}
	// The holder outlives this process on purpose; while we live, reap it
	// when it ends so no zombie piles up in long-running callers.
	go func() {
		for {
			if _, err := syscall.Wait4(pid, nil, 0, nil); err != syscall.EINTR {
				return
			}
		}
	}()
	cfgR.Close()
	readyW.Close()
	if !early {
		cfgW.Write(b)
	}
	cfgW.Close()
	readyR.SetReadDeadline(time.Now().Add(15 * time.Second))
	msg, err := io.ReadAll(io.LimitReader(readyR, 4096))
	if s := strings.TrimSpace(string(msg)); s != "ok" {
		syscall.Kill(pid, syscall.SIGKILL)
		if s == "" && err != nil {
			return fail("holder", err)
		}
		if s == "" {
			s = "holder exited"
		}
		return fail("holder", errors.New(s))
	}
	committed = true
	return pid, commitW, nil
}

// listen creates the cell's socket, root-only, and returns it as a file to
// pass to the holder.
func (d *lxDriver) listen(id uint32) (*os.File, error) {
	path := d.sockAddr(id)
	unix.Unlink(path)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// Anyone may connect: the holder answers "stats" to any host user and
	// everything else to root only (SO_PEERCRED).
	if err := unix.Fchmodat(unix.AT_FDCWD, path, 0o666, 0); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Listen(fd, 64); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "cell-socket"), nil
}

// dial connects to a cell's holder; a missing or refusing socket means the
// cell does not exist (any more).
func (d *lxDriver) dial(id uint32) (*net.UnixConn, error) {
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: d.sockAddr(id), Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// holderAlive opens a pidfd of the cell's holder if it still runs: the pid
// must exist and have the recorded start time (else it was reused).
func lxHolderPidfd(rec lxRecord) (int, bool) {
	if rec.HolderPid <= 0 {
		return -1, false
	}
	fd, err := unix.PidfdOpen(rec.HolderPid, 0)
	if err != nil {
		return -1, false
	}
	// Checked after opening the pidfd: from here the pid cannot be reused.
	if lxProcStart(rec.HolderPid) != rec.HolderStart {
		unix.Close(fd)
		return -1, false
	}
	return fd, true
}

// liveRecordsLocked returns the records of cells whose holder runs and
// cleans up the others (a crashed holder means the cell is gone).
func (d *lxDriver) liveRecordsLocked() ([]lxRecord, error) {
	recs, err := d.st.records()
	if err != nil {
		return nil, err
	}
	var live []lxRecord
	for _, r := range recs {
		fd, ok := lxHolderPidfd(r)
		if ok {
			unix.Close(fd)
			live = append(live, r)
			continue
		}
		d.cleanup(r)
	}
	return live, nil
}

// cleanup removes what is left of a cell whose holder is gone.
func (d *lxDriver) cleanup(r lxRecord) {
	if err := lxCgroupRemove(r.Cgroup); err != nil {
		fmt.Fprintf(d.log, "linux kernel: cell %d: %v\n", r.ID, err)
		return // keep the record: the next call retries
	}
	if err := lxPortsRelease(r); err != nil {
		fmt.Fprintf(d.log, "linux kernel: cell %d: %v\n", r.ID, err)
	}
	d.st.remove(r.ID)
}

// Destroy asks the holder to end; it refuses (EBUSY) while any other
// process, zombies included, remains in the cell.
func (d *lxDriver) Destroy(id uint32) error {
	if id == HostID {
		return lxErrorf(ErrInvalid, unix.EINVAL, "destroy cell 0: the host cell")
	}
	if d.readOnly {
		return lxErrorf(ErrPermission, unix.EPERM, "destroy cell %d: cells need root", id)
	}
	unlock, err := d.st.lock()
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := d.st.record(id)
	if err != nil {
		return lxErrorf(ErrNotExist, unix.ENOENT, "destroy cell %d: no such cell", id)
	}
	pidfd, ok := lxHolderPidfd(rec)
	if !ok {
		d.cleanup(rec)
		return lxErrorf(ErrNotExist, unix.ENOENT, "destroy cell %d: no such cell", id)
	}
	defer unix.Close(pidfd)
	c, err := d.dial(id)
	if err != nil {
		// A holder that no longer answers may be on its way out (it
		// closes its socket first): once it is gone, so is the cell.
		if lxWaitPidfd(pidfd, 2*time.Second) {
			d.cleanup(rec)
			return lxErrorf(ErrNotExist, unix.ENOENT, "destroy cell %d: no such cell", id)
		}
		return fmt.Errorf("linux kernel: destroy cell %d: %w", id, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var r lxReply
	err = lxSend(c, lxRequest{Op: "destroy"}, nil)
	if err == nil {
		_, err = lxRecv(c, &r, lxMaxReply)
	}
	c.Close()
	if err != nil {
		return fmt.Errorf("linux kernel: destroy cell %d: %w", id, err)
	}
	if r.Err != "" {
		if unix.Errno(r.Errno) == unix.EBUSY {
			return lxErrorf(ErrBusy, unix.EBUSY, "destroy cell %d: %s", id, r.Err)
		}
		return lxErrorf(ErrInvalid, unix.Errno(r.Errno), "destroy cell %d: %s", id, r.Err)
	}
	if !lxWaitPidfd(pidfd, 5*time.Second) {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		lxWaitPidfd(pidfd, 5*time.Second)
	}
	if err := lxCgroupRemove(rec.Cgroup); err != nil {
		return err
	}
	if err := lxPortsRelease(rec); err != nil {
		fmt.Fprintf(d.log, "linux kernel: cell %d: %v\n", id, err)
	}
	d.st.remove(id)
	fmt.Fprintf(d.log, "linux kernel: destroyed cell id=%d\n", id)
	return nil
}

// lxWaitPidfd waits until the process behind pidfd has exited.
func lxWaitPidfd(pidfd int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// List asks every holder for its cell and counters: one round trip per
// cell, no waiting for a sample. Cells whose holder died are cleaned up
// and not shown.
func (d *lxDriver) List() ([]Cell, error) {
	if d.readOnly && d.runFD < 0 {
		if _, err := os.Stat(d.st.runDir()); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, lxErrorf(ErrPermission, unix.EPERM, "list cells: state directory %s is not open to other users", d.st.dir)
	}
	ents, err := os.ReadDir(d.st.runDir())
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, lxErrorf(ErrPermission, unix.EPERM, "list cells: %v", err)
		}
		return nil, fmt.Errorf("linux kernel: list cells: %w", err)
	}
	var cells []Cell
	var dead []uint32
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".sock")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(name, 10, 32)
		if err != nil {
			continue
		}
		c, err := d.query(uint32(id))
		if err != nil {
			dead = append(dead, uint32(id))
			continue
		}
		cells = append(cells, c)
	}
	// Cleaning up after dead holders takes root; others just do not see
	// those cells.
	if len(dead) > 0 && !d.readOnly {
		cells = append(cells, d.reapDead(dead)...)
	}
	sort.Slice(cells, func(i, j int) bool { return cells[i].ID < cells[j].ID })
	return cells, nil
}

// Cells names the active cells from their records, without asking the
// holders (see Directory): a record with a live holder is an active cell.
// Cleaning up after dead holders is left to List. Only root can read the
// records.
func (d *lxDriver) Cells() ([]Cell, error) {
	if d.readOnly {
		return d.List()
	}
	recs, err := d.st.records()
	if err != nil {
		return nil, fmt.Errorf("linux kernel: list cells: %w", err)
	}
	var cells []Cell
	for _, r := range recs {
		fd, ok := lxHolderPidfd(r)
		if !ok {
			continue
		}
		unix.Close(fd)
		cells = append(cells, Cell{
			ID: r.ID, Name: r.Name, Root: r.Root, Profile: r.Profile,
			ProfileSet: r.ProfileSet, Ports: r.Ports, Rlimits: r.Rlimits,
			Age: lxAge(r.CreatedNS),
		})
	}
	return cells, nil
}

// query asks one holder for its cell.
func (d *lxDriver) query(id uint32) (Cell, error) {
	c, err := d.dial(id)
	if err != nil {
		return Cell{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := lxSend(c, lxRequest{Op: "stats"}, nil); err != nil {
		return Cell{}, err
	}
	var r lxReply
	if _, err := lxRecv(c, &r, lxMaxReply); err != nil {
		return Cell{}, err
	}
	if r.Cell == nil {
		return Cell{}, fmt.Errorf("linux kernel: cell %d: no stats: %s", id, r.Err)
	}
	return *r.Cell, nil
}

// reapDead cleans up cells whose socket did not answer, if their holder
// is really gone (checked again under the lock). A holder that lives but
// did not answer in time (stopped, overloaded) still has its cell: it is
// listed from its record, with the counters it could not give as zero.
func (d *lxDriver) reapDead(ids []uint32) []Cell {
	unlock, err := d.st.lock()
	if err != nil {
		return nil
	}
	defer unlock()
	var alive []Cell
	for _, id := range ids {
		rec, err := d.st.record(id)
		if err != nil {
			continue // being created (no record yet) or already removed
		}
		if fd, ok := lxHolderPidfd(rec); ok {
			unix.Close(fd)
			alive = append(alive, Cell{
				ID: rec.ID, Name: rec.Name, Root: rec.Root, Profile: rec.Profile,
				ProfileSet: rec.ProfileSet, Ports: rec.Ports, Rlimits: rec.Rlimits,
				Age: lxAge(rec.CreatedNS),
			})
			continue
		}
		d.cleanup(rec)
	}
	return alive
}

// lxKillPidfd kills the process behind pidfd and closes it.
func lxKillPidfd(fd int) {
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	lxWaitPidfd(fd, 5*time.Second)
	unix.Close(fd)
}
