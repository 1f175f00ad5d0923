//go:build netbsd

package kernel

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// netbsdSysctl is cellabi.Sysctler over the raw __sysctl(2) system call:
// golang.org/x/sys/unix only exports read helpers, and secmodel_cell's
// create, destroy and id nodes are written (create reads its reply in the
// same call). Name to MIB resolution walks the tree with CTL_QUERY, as
// sysctlbyname(3) does, and is cached per name.
type netbsdSysctl struct {
	mu   sync.Mutex
	mibs map[string][]int32
}

func newNetbsdSysctl() *netbsdSysctl { return &netbsdSysctl{mibs: map[string][]int32{}} }

// Sysctl implements cellabi.Sysctler.
func (s *netbsdSysctl) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	mib, err := s.mib(name)
	if err != nil {
		return err
	}
	var oldp, olp, newp unsafe.Pointer
	var ol uintptr
	if oldlen != nil {
		// Never let the kernel write past old, whatever *oldlen says.
		ol = uintptr(min(max(*oldlen, 0), len(old)))
		olp = unsafe.Pointer(&ol)
		if len(old) > 0 {
			oldp = unsafe.Pointer(&old[0])
		}
	}
	if len(new) > 0 {
		newp = unsafe.Pointer(&new[0])
	}
	err = rawSysctl(mib, oldp, olp, newp, uintptr(len(new)))
	if oldlen != nil {
		*oldlen = int(ol)
	}
	return err
}

// rawSysctl is __sysctl(name, namelen, oldp, oldlenp, newp, newlen).
func rawSysctl(mib []int32, oldp, oldlenp, newp unsafe.Pointer, newlen uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS___SYSCTL,
		uintptr(unsafe.Pointer(&mib[0])), uintptr(len(mib)),
		uintptr(oldp), uintptr(oldlenp), uintptr(newp), newlen)
	if e != 0 {
		return e
	}
	return nil
}

// mib resolves a dotted name, cached.
func (s *netbsdSysctl) mib(name string) ([]int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.mibs[name]; ok {
		return m, nil
	}
	m, err := netbsdNameToMIB(name)
	if err != nil {
		return nil, err
	}
	s.mibs[name] = m
	return m, nil
}

// netbsdNameToMIB walks the sysctl tree one component at a time: the
// children of a node are read by appending CTL_QUERY to its MIB and
// passing a query node of version SYSCTL_VERS_1 as the new value. A
// missing component is ENOENT, as sysctlbyname(3) reports it.
func netbsdNameToMIB(name string) ([]int32, error) {
	var mib []int32
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		part := name[start:i]
		start = i + 1
		nodes, err := netbsdSysctlChildren(mib)
		if err != nil {
			return nil, fmt.Errorf("sysctl %s: %w", name, err)
		}
		found := false
		for _, n := range nodes {
			if netbsdNodeName(&n) == part {
				mib = append(mib, n.Num)
				found = true
				break
			}
		}
		if !found {
			return nil, syscall.ENOENT
		}
	}
	return mib, nil
}

func netbsdNodeName(n *unix.Sysctlnode) string {
	b := make([]byte, 0, len(n.Name))
	for _, c := range n.Name {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// netbsdSysctlChildren lists the children of mib (two passes; a node added
// in between makes the second pass ENOMEM, so it asks again).
func netbsdSysctlChildren(mib []int32) ([]unix.Sysctlnode, error) {
	q := append(append([]int32{}, mib...), unix.CTL_QUERY)
	qnode := unix.Sysctlnode{Flags: unix.SYSCTL_VERS_1}
	qsize := unsafe.Sizeof(qnode)
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		var olen uintptr
		if err = rawSysctl(q, nil, unsafe.Pointer(&olen), unsafe.Pointer(&qnode), qsize); err != nil {
			return nil, err
		}
		n := olen/qsize + 4
		nodes := make([]unix.Sysctlnode, n)
		olen = n * qsize
		err = rawSysctl(q, unsafe.Pointer(&nodes[0]), unsafe.Pointer(&olen), unsafe.Pointer(&qnode), qsize)
		if err == syscall.ENOMEM {
			continue
		}
		if err != nil {
			return nil, err
		}
		return nodes[:olen/qsize], nil
	}
	return nil, err
}
