//go:build linux

package kernel

import (
	"encoding/json"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// The holder protocol: one SOCK_SEQPACKET connection per request on the
// cell's socket (StateDir/run/<id>.sock, mode 0600 in a 0700 directory;
// the holder also checks SO_PEERCRED uid 0). Each packet is one JSON
// message; file descriptors travel as SCM_RIGHTS on the same packet.
//
//	exec:    -> lxRequest{Op:"exec", Exec} + stdio fds (those present)
//	         <- lxReply{Pid} + pidfd of the child   (or lxReply{Err, Errno})
//	         <- lxReply{Exited, Code, Signal}        when the child ends
//	stats:   -> lxRequest{Op:"stats"}   <- lxReply{Cell}
//	destroy: -> lxRequest{Op:"destroy"} <- lxReply{} (holder exits) or
//	         lxReply{Err, Errno: EBUSY} while members remain

// Bounds of one message: a request carries argv and environment, a reply
// at most one cell's counters or an error text.
const (
	lxMaxPacket = 128 << 10
	lxMaxReply  = 16 << 10
)

// lxRequest is a message to the holder.
type lxRequest struct {
	Op   string     `json:"op"`
	Exec *lxExecReq `json:"exec,omitempty"`
}

// lxExecReq is an exec request; Stdio says which of stdin, stdout, stderr
// travel as descriptors (in that order); missing ones are the cell's
// /dev/null.
type lxExecReq struct {
	Argv      []string `json:"argv"`
	Path      string   `json:"path,omitempty"` // program, when not Argv[0]
	Env       []string `json:"env"`
	Dir       string   `json:"dir"`
	Cred      *Cred    `json:"cred,omitempty"`
	Setsid    bool     `json:"setsid"`
	Setctty   bool     `json:"setctty"`
	NoRlimits bool     `json:"no_rlimits"`
	Stdio     [3]bool  `json:"stdio"`
}

// lxStats are the counters the holder samples every second.
type lxStats struct {
	Procs  uint64 `json:"procs"`
	Refs   uint64 `json:"refs"`
	CPU1s  uint64 `json:"cpu1s"`
	CPU10s uint64 `json:"cpu10s"`
	Memory uint64 `json:"memory"`
}

// lxReply is a message from the holder.
type lxReply struct {
	Err    string `json:"err,omitempty"`
	Errno  int    `json:"errno,omitempty"`
	Pid    int    `json:"pid,omitempty"` // pid inside the cell
	Exited bool   `json:"exited,omitempty"`
	Code   int    `json:"code,omitempty"`
	Signal int    `json:"signal,omitempty"`
	Cell   *Cell  `json:"cell,omitempty"` // stats: the cell and its counters
}

// lxSend writes one message with optional descriptors.
func lxSend(c *net.UnixConn, msg any, files []int) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	var oob []byte
	if len(files) > 0 {
		oob = unix.UnixRights(files...)
	}
	_, _, err = c.WriteMsgUnix(b, oob, nil)
	return err
}

// lxRecv reads one message of at most max bytes and the descriptors that
// came with it. Go's net package receives with MSG_CMSG_CLOEXEC, so a fork
// in another goroutine never inherits them; CloseOnExec again is cheap
// insurance.
func lxRecv(c *net.UnixConn, msg any, max int) ([]*os.File, error) {
	size, err := lxPeekLen(c)
	if err != nil {
		return nil, err
	}
	// One byte more than the packet, at most max: a packet larger than
	// max still arrives truncated (MSG_TRUNC) and is refused below.
	buf := make([]byte, min(size+1, max))
	oob := make([]byte, unix.CmsgSpace(4*8))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				unix.CloseOnExec(fd)
				files = append(files, os.NewFile(uintptr(fd), "scm"))
			}
		}
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		for _, f := range files {
			f.Close()
		}
		return nil, fmt.Errorf("message truncated")
	}
	if n == 0 {
		for _, f := range files {
			f.Close()
		}
		return nil, fmt.Errorf("connection closed")
	}
	if err := json.Unmarshal(buf[:n], msg); err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	return files, nil
}

// lxPeekLen waits for the next packet and returns its length without
// consuming it.
//
// Why: a buffer of the largest allowed size for every message (128 KiB
// for a request) made each stats query of a holder allocate that much;
// under steady polling an idle cell's heap, and so its RSS, grew by
// megabytes. MSG_PEEK|MSG_TRUNC reports the real length of a SEQPACKET
// message with a zero-length buffer.
func lxPeekLen(c *net.UnixConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	return n, nil
}
