package cellabi

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// growing creates cells between the size query and the read of List, as a
// concurrent cellctl create would.
type growing struct {
	k       *FakeKernel
	t       *testing.T
	grow    int // cells to add after each size query
	queries int
	next    int
}

func (g *growing) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	err := g.k.Sysctl(name, old, oldlen, new)
	if name == NodeList && old == nil && oldlen != nil {
		g.queries++
		for i := 0; i < g.grow; i++ {
			g.next++
			c := mkCreate(g.t, fmt.Sprintf("g%d", g.next), "/cells/a")
			if _, err := (Driver{g.k}).Create(c); err != nil {
				g.t.Fatal(err)
			}
		}
	}
	return err
}

func TestListRetryThenSuccess(t *testing.T) {
	k := newFake(t)
	for i := 0; i < 2; i++ {
		Driver{k}.Create(mkCreate(t, fmt.Sprintf("c%d", i), "/cells/a"))
	}
	// Grow by 3 only at the first query: the first read is short (ENOMEM),
	// the second pass succeeds.
	g := &onceGrow{k: k, t: t, n: 3}
	l, err := Driver{g}.List()
	if err != nil {
		t.Fatal(err)
	}
	if g.queries != 2 || len(l) != 5 {
		t.Fatalf("queries %d, cells %d; want 2 and 5", g.queries, len(l))
	}
	for i, c := range l {
		if c.ID != uint32(i+1) {
			t.Fatalf("order: %v", l)
		}
	}
}

type onceGrow struct {
	k       *FakeKernel
	t       *testing.T
	n       int
	queries int
}

func (g *onceGrow) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	err := g.k.Sysctl(name, old, oldlen, new)
	if name == NodeList && old == nil && oldlen != nil {
		g.queries++
		if g.queries == 1 {
			for i := 0; i < g.n; i++ {
				Driver{g.k}.Create(mkCreate(g.t, fmt.Sprintf("x%d", i), "/cells/b"))
			}
		}
	}
	return err
}

func TestListGivesUpWithENOMEM(t *testing.T) {
	k := newFake(t)
	Driver{k}.Create(mkCreate(t, "first", "/cells/a"))
	g := &growing{k: k, t: t, grow: 3}
	_, err := Driver{g}.List()
	if err != syscall.ENOMEM {
		t.Fatalf("endless growth: %v, want ENOMEM", err)
	}
	if g.queries != listAttempts {
		t.Fatalf("%d size queries, want %d", g.queries, listAttempts)
	}
}

// scripted replies with canned bytes.
type scripted struct {
	reply []byte
	err   error
}

func (s scripted) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	if s.err != nil {
		return s.err
	}
	if old == nil {
		*oldlen = len(s.reply)
		return nil
	}
	copy(old, s.reply)
	*oldlen = len(s.reply)
	return nil
}

func TestListBadLength(t *testing.T) {
	_, err := Driver{scripted{reply: make([]byte, 401)}}.List()
	if !errors.Is(err, ErrListLength) {
		t.Fatalf("401 bytes: %v", err)
	}
	_, err = Driver{scripted{err: syscall.EPERM}}.List()
	if err != syscall.EPERM {
		t.Fatalf("EPERM passes through: %v", err)
	}
}

func TestCreateReplyChecks(t *testing.T) {
	// A reply with cc_id 0 is not a created cell.
	if _, err := (Driver{scripted{reply: make([]byte, SizeofCreate)}}).Create(&Create{}); err == nil {
		t.Fatal("cc_id 0 accepted")
	}
	if _, err := (Driver{scripted{reply: make([]byte, 10)}}).Create(&Create{}); err == nil {
		t.Fatal("short reply accepted")
	}
}
