package supervise

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// MaxLine is the longest message body (bytes of one output line) sent in one
// syslog message; longer lines are split. With the "cell=<name> cid=<id>
// stdout: " prefix and the header a message stays within the 1024 bytes
// RFC 3164 allows.
const MaxLine = 480

// lineSplitter cuts a byte stream into lines without ever holding more than
// a fixed buffer: a line longer than MaxLine is emitted in MaxLine pieces
// (cut on a UTF-8 boundary when possible), and a partial last line is
// emitted by flush at EOF.
type lineSplitter struct {
	buf  [MaxLine]byte
	n    int
	emit func(line []byte)
}

// write feeds p and emits every completed line (without its newline).
func (s *lineSplitter) write(p []byte) {
	for len(p) > 0 {
		room := MaxLine - s.n
		// A newline right after a full buffer still ends that line, so
		// look one byte further than the room left.
		look := p[:min(len(p), room+1)]
		if i := bytes.IndexByte(look, '\n'); i >= 0 {
			if s.n == 0 {
				s.emit(look[:i]) // fast path: a whole line, no copy
			} else {
				s.n += copy(s.buf[s.n:], look[:i])
				s.emit(s.buf[:s.n])
				s.n = 0
			}
			p = p[i+1:]
			continue
		}
		if room == 0 {
			s.cut()
			continue
		}
		take := min(len(p), room)
		s.n += copy(s.buf[s.n:], p[:take])
		p = p[take:]
	}
}

// cut emits a full buffer as one piece, keeping an incomplete trailing
// UTF-8 sequence for the next piece.
func (s *lineSplitter) cut() {
	end := s.n
	for k := 1; k < utf8.UTFMax && k < end; k++ {
		c := s.buf[end-k]
		if c < 0x80 { // ASCII: the buffer ends on a boundary
			break
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(s.buf[end-k : end]) {
				end -= k
			}
			break
		}
	}
	s.emit(s.buf[:end])
	s.n = copy(s.buf[:], s.buf[end:s.n])
}

// flush emits a pending partial line.
func (s *lineSplitter) flush() {
	if s.n > 0 {
		s.emit(s.buf[:s.n])
		s.n = 0
	}
}

// readLines reads r through a fixed buffer into s until EOF or an error,
// then flushes the last partial line.
func readLines(r io.Reader, s *lineSplitter) {
	buf := make([]byte, 64*1024)
	for {
		n, err := r.Read(buf)
		s.write(buf[:n])
		if err != nil {
			break
		}
	}
	s.flush()
}
