package cellabi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// Descriptors of the helper protocol: the parent passes the request pipe
// and the status pipe as the first two extra files.
const (
	InitRequestFD = 3 // read end: the JSON InitRequest, then EOF
	InitStatusFD  = 4 // write end, close-on-exec in the helper: a failure record, or EOF when the exec succeeded
)

// maxRequest bounds what the helper reads (argv+env are bounded by
// ARG_MAX, 256 KiB on NetBSD) and maxStatus what the parent reads.
const (
	maxRequest = 4 << 20
	maxStatus  = 64 << 10
)

// InitError is a failure the helper reported before exec: its message
// ("enter cell <id>: ...") and the errno behind it, if any.
type InitError struct {
	Msg   string
	Errno syscall.Errno
}

func (e *InitError) Error() string { return e.Msg }

// Unwrap returns the errno (nil when the failure had none).
func (e *InitError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// InitSetup is what the helper needs besides InitSys to run a request.
type InitSetup interface {
	InitSys
	// CloseOnExec marks fd close-on-exec.
	CloseOnExec(fd int) error
}

// InitMain is the body of the helper: read the request from InitRequestFD,
// run it, and on failure report on InitStatusFD. It returns the exit code,
// only ever on failure (success replaced the process).
func InitMain(sys InitSetup) int {
	status := os.NewFile(InitStatusFD, "cells-init-status")
	// Mark the status pipe first, so the parent sees EOF when exec succeeds.
	if err := sys.CloseOnExec(InitStatusFD); err != nil {
		fmt.Fprintf(os.Stderr, "%s: status descriptor: %v\n", "cells-init", err)
		return 1
	}
	req, err := readRequest()
	if err == nil {
		err = RunInit(sys, req, []int{InitStatusFD})
		if err == nil {
			err = errors.New("exec returned without an error")
		}
	}
	if werr := writeStatus(status, err); werr != nil {
		fmt.Fprintf(os.Stderr, "cells-init: %v\n", err)
	}
	return 1
}

func readRequest() (*InitRequest, error) {
	f := os.NewFile(InitRequestFD, "cells-init-request")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRequest+1))
	if err != nil {
		return nil, fmt.Errorf("enter cell: read request: %w", err)
	}
	if len(b) > maxRequest {
		return nil, fmt.Errorf("enter cell: request larger than %d bytes", maxRequest)
	}
	var req InitRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("enter cell: decode request: %w", err)
	}
	return &req, nil
}

// writeStatus sends the failure record: the errno (4 bytes, host order),
// then the message.
func writeStatus(w io.Writer, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) && errors.Is(err, exec.ErrNotFound) {
		errno = syscall.ENOENT
	}
	rec := make([]byte, 4, 4+len(err.Error()))
	ByteOrder.PutUint32(rec, uint32(errno))
	rec = append(rec, err.Error()...)
	if len(rec) > maxStatus {
		rec = rec[:maxStatus]
	}
	_, werr := w.Write(rec)
	return werr
}

func parseStatus(b []byte) error {
	if len(b) < 4 {
		return &InitError{Msg: fmt.Sprintf("enter cell: helper sent a %d-byte status", len(b))}
	}
	return &InitError{Errno: syscall.Errno(ByteOrder.Uint32(b)), Msg: string(b[4:])}
}

// StartInit starts cmd, which must run a Cells binary as the helper (Args[0]
// InitArg0), hands it req and waits until the helper either exec'd the
// command (nil: cmd.Process is the command) or failed (an *InitError; the
// helper has been reaped). cmd.ExtraFiles must be empty.
func StartInit(cmd *exec.Cmd, req *InitRequest) error {
	if len(cmd.ExtraFiles) != 0 {
		return errors.New("enter cell: helper command with extra files")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("enter cell %d: encode request: %w", req.ID, err)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("enter cell %d: request pipe: %w", req.ID, err)
	}
	defer reqW.Close()
	statR, statW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		return fmt.Errorf("enter cell %d: status pipe: %w", req.ID, err)
	}
	defer statR.Close()
	cmd.ExtraFiles = []*os.File{reqR, statW}
	err = cmd.Start()
	// The child has its copies; ours would keep the pipes from reaching EOF.
	reqR.Close()
	statW.Close()
	cmd.ExtraFiles = nil
	if err != nil {
		return fmt.Errorf("enter cell %d: start helper: %w", req.ID, err)
	}
	_, werr := reqW.Write(body)
	reqW.Close()
	status, rerr := io.ReadAll(io.LimitReader(statR, maxStatus))
	switch {
	case rerr != nil:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("enter cell %d: read helper status: %w", req.ID, rerr)
	case len(status) > 0:
		_ = cmd.Wait()
		return parseStatus(status)
	case werr != nil:
		// The helper went away without a word before reading everything.
		_ = cmd.Wait()
		return fmt.Errorf("enter cell %d: send request: %w", req.ID, werr)
	}
	return nil
}
