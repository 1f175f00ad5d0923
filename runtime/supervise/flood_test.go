package supervise

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// floodMain writes numbered 100-byte lines to stdout for args[0] (a
// duration), then writes "<bytes> <seconds>" to the file args[1] and sleeps
// until killed (so the monitor does not restart it during the test).
func floodMain(args []string) int {
	d, err := time.ParseDuration(args[0])
	if err != nil {
		return 2
	}
	w := bufio.NewWriterSize(os.Stdout, 64*1024)
	line := []byte(fmt.Sprintf("%-99s\n", "flood "+strings.Repeat("x", 60)))
	var n int64
	start := time.Now()
	for i := 0; ; i++ {
		if i%1024 == 0 && time.Since(start) >= d {
			break
		}
		k, err := w.Write(line)
		n += int64(k)
		if err != nil {
			return 1
		}
	}
	w.Flush()
	el := time.Since(start)
	if err := os.WriteFile(args[1], fmt.Appendf(nil, "%d %f\n", n, el.Seconds()), 0o644); err != nil {
		return 1
	}
	time.Sleep(time.Hour)
	return 0
}
