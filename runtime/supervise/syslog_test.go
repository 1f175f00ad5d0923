package supervise

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The client never blocks: a receiver that does not read makes sends fail
// at once (dropped), a missing socket too, and once the socket is back the
// client reconnects by itself.
func TestSyslogClientNonBlocking(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log.sock")
	listen := func() *net.UnixConn {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	srv := listen()
	c := newSyslogClient(sock, "tag", 3)
	defer c.close()
	if !c.send(5, []byte("hello")) {
		t.Fatal("first send failed")
	}
	buf := make([]byte, 2048)
	srv.SetReadDeadline(time.Now().Add(time.Second))
	n, err := srv.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "<29>") || !strings.HasSuffix(string(buf[:n]), " tag["+strconv.Itoa(os.Getpid())+"]: hello") {
		t.Fatalf("received %q, %v", buf[:n], err)
	}

	// Nobody reads: the queue fills up and sends are dropped, quickly.
	t0 := time.Now()
	ok, dropped := 0, 0
	for i := 0; i < 5000; i++ {
		if c.send(5, []byte(strings.Repeat("x", 400))) {
			ok++
		} else {
			dropped++
		}
	}
	if dropped == 0 || time.Since(t0) > 2*time.Second {
		t.Errorf("full receiver: %d sent, %d dropped in %v", ok, dropped, time.Since(t0))
	}

	// The daemon goes away: drops, then it comes back: delivered again.
	srv.Close()
	os.Remove(sock)
	if c.send(5, []byte("lost")) {
		t.Error("send succeeded without a daemon")
	}
	srv = listen()
	defer srv.Close()
	if !waitUntil(3*time.Second, func() bool { return c.send(5, []byte("back")) }) {
		t.Fatal("client did not reconnect")
	}
	srv.SetReadDeadline(time.Now().Add(time.Second))
	for {
		n, err := srv.Read(buf)
		if err != nil {
			t.Fatalf("no message after reconnect: %v", err)
		}
		if strings.HasSuffix(string(buf[:n]), ": back") {
			break
		}
	}
}

func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
