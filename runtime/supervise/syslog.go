package supervise

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The environment variable CELLS_SYSLOG_SOCKET overrides the socket of the
// local syslog daemon, DefaultSyslogSocket (/dev/log on Linux, /var/run/log
// on NetBSD): tests point it at a private daemon, operators at a relay.
// syslogSocketPath returns the socket the monitor logs to.
func syslogSocketPath() string {
	if p := os.Getenv("CELLS_SYSLOG_SOCKET"); p != "" {
		return p
	}
	return DefaultSyslogSocket
}

// Reconnection backoff of the syslog client while the socket is missing.
const (
	redialFirst = 100 * time.Millisecond
	redialMax   = 1 * time.Second
)

// syslogClient sends RFC 3164 messages over a unix datagram socket and never
// blocks: sends use MSG_DONTWAIT, a full receiver or a missing daemon makes
// send report false (the caller counts a drop), and the socket is redialled
// with backoff until the daemon is back. Safe for concurrent use.
type syslogClient struct {
	path     string
	tag      string
	pid      int
	facility int
	now      func() time.Time

	mu       sync.Mutex
	fd       int // -1 while disconnected
	nextDial time.Time
	redial   time.Duration
	buf      []byte
}

func newSyslogClient(path, tag string, facility int) *syslogClient {
	c := &syslogClient{path: path, tag: tag, pid: os.Getpid(), facility: facility, now: time.Now, fd: -1, redial: redialFirst}
	c.mu.Lock()
	c.dialLocked() // LOG_NDELAY: connect at once when possible
	c.mu.Unlock()
	return c
}

// send formats msg with severity sev and sends it; false means it was
// dropped.
func (c *syslogClient) send(sev int, msg []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	if c.fd < 0 {
		if t.Before(c.nextDial) {
			return false
		}
		if !c.dialLocked() {
			return false
		}
	}
	c.buf = appendRFC3164(c.buf[:0], c.facility*8+sev, t, c.tag, c.pid, msg)
	err := unix.Sendto(c.fd, c.buf, unix.MSG_DONTWAIT, nil)
	switch {
	case err == nil:
		return true
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.EMSGSIZE):
		return false // daemon busy: drop, keep the connection
	}
	// The daemon went away (restart, socket removed): redial later.
	unix.Close(c.fd)
	c.fd = -1
	c.nextDial = t // first redial attempt at the next message
	return false
}

// dialLocked connects a fresh non-blocking datagram socket; on failure it
// schedules the next attempt with doubling backoff.
func (c *syslogClient) dialLocked() bool {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: c.path})
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		c.nextDial = c.now().Add(c.redial)
		c.redial = min(c.redial*2, redialMax)
		return false
	}
	c.fd = fd
	c.redial = redialFirst
	return true
}

// close releases the socket.
func (c *syslogClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// appendRFC3164 appends `<PRI>Mmm dd hh:mm:ss tag[pid]: msg` (local time,
// day padded with a space, LOG_PID style) to b.
func appendRFC3164(b []byte, pri int, t time.Time, tag string, pid int, msg []byte) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, '>')
	b = t.AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "]: "...)
	return append(b, msg...)
}
