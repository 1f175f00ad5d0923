package supervise

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func split(chunks ...string) []string {
	var got []string
	s := &lineSplitter{emit: func(l []byte) { got = append(got, string(l)) }}
	for _, c := range chunks {
		s.write([]byte(c))
	}
	s.flush()
	return got
}

func TestLineSplitter(t *testing.T) {
	long := strings.Repeat("a", MaxLine)
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"lines", []string{"a\nbb\n\nccc\n"}, []string{"a", "bb", "", "ccc"}},
		{"partial at EOF", []string{"one\ntw", "o"}, []string{"one", "two"}},
		{"split across writes", []string{"he", "llo\nwor", "ld\n"}, []string{"hello", "world"}},
		{"exactly MaxLine", []string{long + "\nx\n"}, []string{long, "x"}},
		{"exactly MaxLine, newline in next write", []string{long, "\nx"}, []string{long, "x"}},
		{"MaxLine+1", []string{long + "b\n"}, []string{long, "b"}},
		{"long line", []string{strings.Repeat("z", 3*MaxLine+7) + "\n"}, []string{strings.Repeat("z", MaxLine), strings.Repeat("z", MaxLine), strings.Repeat("z", MaxLine), "zzzzzzz"}},
		{"empty", nil, nil},
	} {
		got := split(tc.chunks...)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
	// A multi-byte rune straddling the cut moves to the next piece whole.
	in := strings.Repeat("a", MaxLine-1) + "é" + "b\n"
	got := split(in)
	if len(got) != 2 || got[0] != strings.Repeat("a", MaxLine-1) || got[1] != "éb" {
		t.Errorf("utf-8 cut: got %q", got)
	}
	// byte-at-a-time feeding gives the same result as one write
	var chunks []string
	for _, c := range []byte(in + "x\ny") {
		chunks = append(chunks, string([]byte{c}))
	}
	if g := split(chunks...); strings.Join(g, "|") != strings.Join(append(got, "x", "y"), "|") {
		t.Errorf("bytewise: got %q", g)
	}
}

func TestReadLinesBounded(t *testing.T) {
	// 10 MB without a newline: pieces of MaxLine, never a bigger buffer.
	var n, max int
	s := &lineSplitter{emit: func(l []byte) { n++; max = maxInt(max, len(l)) }}
	readLines(bytes.NewReader(bytes.Repeat([]byte("q"), 10<<20)), s)
	if max != MaxLine || n != (10<<20+MaxLine-1)/MaxLine {
		t.Errorf("got %d pieces, longest %d", n, max)
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestBackoffSequence(t *testing.T) {
	b := newBackoff()
	var got []time.Duration
	for i := 0; i < 7; i++ {
		got = append(got, b.delay(time.Second))
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10, 10}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("sequence %v, want %v s", got, want)
		}
	}
	// A run of ResetAfter or more starts over at 1 s; just below does not.
	if d := b.delay(ResetAfter); d != time.Second {
		t.Errorf("after a %v run: %v", ResetAfter, d)
	}
	if d := b.delay(ResetAfter - time.Millisecond); d != 2*time.Second {
		t.Errorf("after a short run: %v", d)
	}
	if ResetAfter != 30*time.Second || FirstDelay != time.Second || MaxDelay != 10*time.Second {
		t.Errorf("defaults changed: %v %v %v", FirstDelay, MaxDelay, ResetAfter)
	}
}

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTokenBucket(1000, 2000, func() time.Time { return now })
	n := 0
	for b.allow() {
		n++
	}
	if n != 2000 {
		t.Fatalf("burst: %d", n)
	}
	now = now.Add(100 * time.Millisecond)
	n = 0
	for b.allow() {
		n++
	}
	if n != 100 {
		t.Errorf("after 100 ms: %d tokens, want 100", n)
	}
	now = now.Add(time.Hour) // refills up to the burst, not beyond
	n = 0
	for b.allow() {
		n++
	}
	if n != 2000 {
		t.Errorf("after an hour: %d tokens, want 2000", n)
	}
	now = now.Add(-time.Second) // a clock step back gives nothing
	if b.allow() {
		t.Errorf("token after clock step back")
	}
}

func TestRFC3164(t *testing.T) {
	loc := time.FixedZone("X", 0)
	for _, tc := range []struct {
		pri  int
		t    time.Time
		want string
	}{
		{3*8 + 5, time.Date(2026, 1, 2, 3, 4, 5, 0, loc), "<29>Jan  2 03:04:05 cellctl[42]: cell=web cid=7 stdout: hi"},
		{23*8 + 7, time.Date(2026, 11, 27, 23, 59, 59, 999, loc), "<191>Nov 27 23:59:59 cellctl[42]: cell=web cid=7 stdout: hi"},
		{0, time.Date(2026, 6, 10, 0, 0, 0, 0, loc), "<0>Jun 10 00:00:00 cellctl[42]: cell=web cid=7 stdout: hi"},
	} {
		got := string(appendRFC3164(nil, tc.pri, tc.t, "cellctl", 42, []byte("cell=web cid=7 stdout: hi")))
		if got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

func TestSanitizeTag(t *testing.T) {
	for in, want := range map[string]string{"cellctl": "cellctl", "a b": "a_b", "x:y[1]": "x_y_1_", "é": "__", "t\n": "t_"} {
		if got, err := sanitizeTag(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
}
