package runtime

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// ReportWidth is the width the apply report fits into (reference 4.3): the
// terminal's when w is a terminal (TIOCGWINSZ), else $COLUMNS when it is a
// number of at least 40, else 120.
func ReportWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		// TIOCGWINSZ fails with ENOTTY on anything but a terminal.
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return 120
}
