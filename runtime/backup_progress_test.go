package runtime

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func TestProgressOnlyOnTerminals(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var buf bytes.Buffer
	for _, out := range []io.Writer{w, &buf, nil} {
		if p := startProgress(out, "x", 10); p != nil {
			t.Errorf("progress on %T", out)
		}
	}
	var p *progress // nil: pass-through
	if got, _ := io.ReadAll(p.reader(strings.NewReader("abc"))); string(got) != "abc" {
		t.Errorf("nil reader: %q", got)
	}
	p.stop()

	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	p = startProgress(ptmx, "restore x", 6)
	if p == nil {
		t.Fatal("no progress on a terminal")
	}
	if got, _ := io.ReadAll(p.reader(strings.NewReader("abcdef"))); string(got) != "abcdef" {
		t.Errorf("reader: %q", got)
	}
	var sink bytes.Buffer
	p.writer(&sink).Write([]byte("xy"))
	if n := p.n.Load(); n != 8 || sink.String() != "xy" {
		t.Errorf("counted %d, wrote %q", n, sink.String())
	}
	p.stop()
}
