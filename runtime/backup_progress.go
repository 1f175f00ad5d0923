package runtime

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// progress shows the bytes a long backup or restore has moved, on a
// terminal only, refreshed twice a second on one line. A nil *progress
// shows nothing.
type progress struct {
	w     io.Writer
	label string
	total int64
	n     atomic.Int64
	done  chan struct{}
	wg    sync.WaitGroup
}

// isTerminal reports whether w is a terminal (TIOCGWINSZ fails with
// ENOTTY on anything else).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil
}

// startProgress starts showing progress on w when it is a terminal; total
// (0 when unknown) gives a percentage.
func startProgress(w io.Writer, label string, total int64) *progress {
	if w == nil || !isTerminal(w) {
		return nil
	}
	p := &progress{w: w, label: label, total: total, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				n := p.n.Load()
				if p.total > 0 {
					fmt.Fprintf(p.w, "\r\033[K%s: %.1f MiB (%d%%)", p.label, float64(n)/(1<<20), n*100/p.total)
				} else {
					fmt.Fprintf(p.w, "\r\033[K%s: %.1f MiB", p.label, float64(n)/(1<<20))
				}
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.done)
	p.wg.Wait()
}

// reader counts what is read through it.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return readerFunc(func(b []byte) (int, error) {
		n, err := r.Read(b)
		p.n.Add(int64(n))
		return n, err
	})
}

// writer counts what is written through it.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return writerFunc(func(b []byte) (int, error) {
		n, err := w.Write(b)
		p.n.Add(int64(n))
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
