package cellabi

import (
	"math"
	"syscall"
)

// sysctlCreate is security.models.cell.create: validate the request exactly
// as secmodel_cell_sysctl.c documents, record the cell, reply with cc_id.
func (k *FakeKernel) sysctlCreate(old []byte, oldlen *int, new []byte) error {
	if !k.hostRoot() {
		return syscall.EPERM
	}
	if len(new) != SizeofCreate {
		return syscall.EINVAL
	}
	if oldlen == nil || old == nil || min(*oldlen, len(old)) < SizeofCreate {
		return syscall.ENOMEM
	}
	c, err := DecodeCreate(new)
	if err != nil {
		return syscall.EINVAL
	}
	if err := validateCreate(c); err != nil {
		return err
	}
	name, root := CString(c.Name[:]), CString(c.Root[:])
	isDir, err := k.stat(root)
	if err != nil {
		return errnoOf(err)
	}
	if !isDir {
		return syscall.ENOTDIR
	}
	ports := c.Ports[:0:0]
	if c.Flags&CreatePorts != 0 {
		ports = append(ports, c.Ports[:c.NPorts]...)
	}
	for _, other := range k.cells {
		if other.info.Name == name {
			return syscall.EEXIST
		}
		for _, p := range other.ports {
			for _, q := range ports {
				if p == q {
					return syscall.EEXIST
				}
			}
		}
	}
	if k.lastID == math.MaxUint32 {
		return syscall.EOVERFLOW
	}
	k.lastID++
	profile := uint32(ProfileHigh)
	if c.Flags&CreateProfile != 0 {
		profile = c.Profile
	}
	k.cells = append(k.cells, &fakeCell{
		info: Info{
			ID: k.lastID, CreateFlags: c.Flags, Name: name, Root: root, CreatedNS: k.now(),
			RlimitNofile: c.RlimitNofile, RlimitAS: c.RlimitAS, RlimitCore: c.RlimitCore,
		},
		profile: profile,
		ports:   ports,
	})
	c.ID = k.lastID
	return copyOut(EncodeCreate(c), old, oldlen)
}

// validateCreate checks the payload alone (no kernel state).
func validateCreate(c *Create) error {
	if c.Flags&^CreateFlagsAll != 0 {
		return syscall.EINVAL
	}
	if c.Flags&CreatePorts == 0 {
		if c.NPorts != 0 {
			return syscall.EINVAL
		}
	} else {
		if c.NPorts < 1 || c.NPorts > PortsMax {
			return syscall.EINVAL
		}
		seen := map[uint16]bool{}
		for _, p := range c.Ports[:c.NPorts] {
			if p == 0 || seen[p] {
				return syscall.EINVAL
			}
			seen[p] = true
		}
	}
	for _, r := range []struct {
		flag  uint32
		value uint64
	}{{CreateRlimitNofile, c.RlimitNofile}, {CreateRlimitAS, c.RlimitAS}, {CreateRlimitCore, c.RlimitCore}} {
		if c.Flags&r.flag == 0 && r.value != 0 {
			return syscall.EINVAL
		}
	}
	if c.Flags&CreateProfile != 0 && c.Profile > ProfileHigh {
		return syscall.EINVAL
	}
	if !validText(c.Name[:]) || !validText(c.Root[:]) {
		return syscall.EINVAL
	}
	name := CString(c.Name[:])
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return syscall.EINVAL
		}
	}
	return nil
}

// validText: non-empty, NUL-terminated within the array, no control bytes.
func validText(b []byte) bool {
	if len(b) == 0 || b[0] == 0 {
		return false
	}
	for _, ch := range b {
		if ch == 0 {
			return true
		}
		if ch < 0x20 || ch == 0x7f {
			return false
		}
	}
	return false
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
