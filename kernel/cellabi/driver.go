package cellabi

import (
	"errors"
	"syscall"
)

// Sysctler is sysctl(3) by name with the C calling convention: old and
// *oldlen receive the reply (*oldlen: room on input, length written or
// needed on output; nil oldlen: no reply wanted), new is the value written
// (nil: a read). Errors are syscall.Errno values.
type Sysctler interface {
	Sysctl(name string, old []byte, oldlen *int, new []byte) error
}

// Driver speaks the secmodel_cell ABI through a Sysctler. Errors are the
// Sysctler's (syscall.Errno), unwrapped: callers add the context.
type Driver struct {
	S Sysctler
}

// listAttempts bounds the size-query/read loop of List: a cell created
// between the two passes makes the read ENOMEM, and the loop asks again.
const listAttempts = 8

// Create writes c to security.models.cell.create and returns the id the
// kernel put in the reply's cc_id.
func (d Driver) Create(c *Create) (uint32, error) {
	reply := make([]byte, SizeofCreate)
	n := len(reply)
	if err := d.S.Sysctl(NodeCreate, reply, &n, EncodeCreate(c)); err != nil {
		return 0, err
	}
	if n != SizeofCreate {
		return 0, errors.New("short cell_create reply")
	}
	got, err := DecodeCreate(reply)
	if err != nil {
		return 0, err
	}
	if got.ID == HostID {
		return 0, errors.New("cell_create reply without an id")
	}
	return got.ID, nil
}

// Destroy writes id to security.models.cell.destroy.
func (d Driver) Destroy(id uint32) error {
	return d.S.Sysctl(NodeDestroy, nil, nil, idBytes(id))
}

// Enter writes id to security.models.cell.id: the calling process joins the
// cell. The kernel requires the caller to be chrooted into the cell root.
func (d Driver) Enter(id uint32) error {
	return d.S.Sysctl(NodeID, nil, nil, idBytes(id))
}

// Current reads security.models.cell.id: the caller's cell.
func (d Driver) Current() (uint32, error) {
	b := make([]byte, 4)
	n := len(b)
	if err := d.S.Sysctl(NodeID, b, &n, nil); err != nil {
		return 0, err
	}
	if n != 4 {
		return 0, errors.New("short cell id reply")
	}
	return ByteOrder.Uint32(b), nil
}

// List reads security.models.cell.list with the two-pass size query,
// retrying when the list grew between the passes. ErrListLength reports a
// reply that is not a whole number of cell_info.
func (d Driver) List() ([]Info, error) {
	var err error
	for attempt := 0; attempt < listAttempts; attempt++ {
		var need int
		if err = d.S.Sysctl(NodeList, nil, &need, nil); err != nil {
			return nil, err
		}
		if need == 0 {
			return nil, nil
		}
		// Room for two more cells spares a round trip when one appears.
		buf := make([]byte, need+2*SizeofInfo)
		n := len(buf)
		err = d.S.Sysctl(NodeList, buf, &n, nil)
		if err == syscall.ENOMEM {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n > len(buf) {
			return nil, ErrListLength
		}
		return DecodeInfoList(buf[:n])
	}
	return nil, err
}

func idBytes(id uint32) []byte {
	b := make([]byte, 4)
	ByteOrder.PutUint32(b, id)
	return b
}
