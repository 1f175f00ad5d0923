package supervise

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"cells/kernel"
	"cells/runtime/paths"
)

// ReadCounters returns the counters the running monitor of cell name
// publishes (cell_restarts_total and cell_log_lines_dropped_total of
// `cellctl stats -P`); ok is false when the cell has no monitor.
func ReadCounters(name string) (restarts, dropped uint64, ok bool) {
	if !kernel.ValidName(name) {
		return 0, 0, false
	}
	b, err := os.ReadFile(statsPath(paths.FromEnv().RunDir, name))
	if err != nil {
		return 0, 0, false
	}
	var haveR, haveD bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		switch k {
		case "restarts":
			restarts, haveR = n, true
		case "dropped":
			dropped, haveD = n, true
		}
	}
	return restarts, dropped, haveR && haveD
}

// formatCounters is the content of the stats file.
func formatCounters(restarts, dropped uint64) []byte {
	return fmt.Appendf(nil, "restarts=%d\ndropped=%d\n", restarts, dropped)
}
