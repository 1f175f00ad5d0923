package cellctl

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// terminalProxy gives a command in a Linux cell a terminal of its own when
// cellctl's stdin is one. Why: the command is a child of the cell's holder,
// in another session, so it cannot share cellctl's controlling terminal
// (stealing it would leave the operator's shell without one). It gets a
// fresh pty instead, as its controlling terminal; cellctl puts its own
// terminal in raw mode and copies bytes both ways, window size included,
// until stop is called. ok is false unless stdin and stdout both are
// terminals (output redirected to a file must not get a terminal's CRLF).
func terminalProxy(stdin, stdout *os.File) (pts *os.File, stop func(), ok bool, err error) {
	in := int(stdin.Fd())
	saved, err := unix.IoctlGetTermios(in, unix.TCGETS)
	if err != nil {
		return nil, nil, false, nil // not a terminal
	}
	if _, err := unix.IoctlGetTermios(int(stdout.Fd()), unix.TCGETS); err != nil {
		return nil, nil, false, nil
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, false, fmt.Errorf("exec: pty: %w", err)
	}
	fail := func(err error) (*os.File, func(), bool, error) {
		ptmx.Close()
		return nil, nil, false, fmt.Errorf("exec: pty: %w", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fail(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fail(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	resize := func() {
		if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
			unix.IoctlSetWinsize(int(ptmx.Fd()), unix.TIOCSWINSZ, ws)
		}
	}
	resize()
	raw := *saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	unix.IoctlSetTermios(in, unix.TCSETS, &raw)

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			resize()
		}
	}()
	// The copy from the terminal may stay blocked in a read after the
	// command ended; it ends with the process (cellctl exits next).
	go io.Copy(ptmx, stdin)
	out := make(chan struct{})
	go func() { io.Copy(stdout, ptmx); close(out) }()
	stop = func() {
		pts.Close()
		// Drain what the command wrote last: the copy ends (EIO) once no
		// process holds the pty, but a background process left in the
		// cell may hold it on: stop waiting after a moment.
		select {
		case <-out:
		case <-time.After(300 * time.Millisecond):
		}
		ptmx.Close()
		signal.Stop(winch)
		close(winch)
		unix.IoctlSetTermios(in, unix.TCSETS, saved)
	}
	return pts, stop, true, nil
}
