package cellctl

import (
	"fmt"
	"io"
	"strings"

	"cells/kernel"
)

// statsHeader are the TSV columns of `stats -T`.
var statsHeader = []string{"CID", "NAME", "CPU1S", "CPU10S", "PROCS", "REFS", "MEMORY", "AGE", "ROOT"}

// httpHeader prefixes `stats -P -h` for an inetd(8) stream service. Upstream
// says "text/plain"; the versioned type is what Prometheus expects of the
// text format.
const httpHeader = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\n"

// stats implements `cellctl stats [-P] [-v] [-h] [-T] [-H]` (and -J).
func (c *cmd) stats(args []string) error {
	set, rest, err := c.switches(args, "PvhTHJ")
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errUsage
	}
	prom, verbose, http, tsv, noHeader := set['P'], set['v'], set['h'], set['T'], set['H']
	switch {
	case http && !prom:
		return fmt.Errorf("-h requires -P")
	case noHeader && !tsv:
		return fmt.Errorf("-H requires -T")
	case tsv && prom:
		return fmt.Errorf("-T is not valid with -P")
	case tsv && verbose:
		return fmt.Errorf("-T is not valid with -v")
	case tsv && http:
		return fmt.Errorf("-T is not valid with -h")
	case c.json && tsv:
		return fmt.Errorf("-J is not valid with -T")
	case c.json && prom:
		return fmt.Errorf("-J is not valid with -P")
	}
	return c.withDriver(func(d kernel.Driver) error {
		cells, err := listCells(d)
		if err != nil {
			return err
		}
		switch {
		case prom:
			if http {
				io.WriteString(c.stdout, httpHeader)
			}
			return WritePrometheus(c.stdout, cells)
		case c.json:
			return writeJSON(c.stdout, statsHeader, statsRows(cells))
		case tsv:
			if !noHeader {
				fmt.Fprintln(c.stdout, strings.Join(statsHeader, "\t"))
			}
			for _, r := range statsRows(cells) {
				r[1], r[8] = tsvSafe(r[1].(string)), tsvSafe(r[8].(string))
				fmt.Fprintf(c.stdout, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r...)
			}
		case verbose:
			writeStatsVerbose(c.stdout, cells)
		default:
			writeStatsHuman(c.stdout, cells)
		}
		return nil
	})
}

// statsRows returns the `stats -T` rows as values, in statsHeader order.
func statsRows(cells []kernel.Cell) [][]any {
	rows := make([][]any, 0, len(cells))
	for _, c := range cells {
		rows = append(rows, []any{c.ID, c.Name, c.CPU1s, c.CPU10s, c.Procs, c.Refs, c.Memory, c.Age, c.Root})
	}
	return rows
}

func writeStatsHuman(w io.Writer, cells []kernel.Cell) {
	if len(cells) == 0 {
		fmt.Fprintln(w, "no cells")
		return
	}
	nw := nameWidth(cells)
	fmt.Fprintf(w, "%-8s %-*s %-10s %-10s %-8s %-8s %-12s\n",
		"ID", nw, "NAME", "CPU1S", "CPU10S", "PROC", "AGE", "MEMORY")
	for _, c := range cells {
		fmt.Fprintf(w, "%-8d %-*s %-10d %-10d %-8d %-8d %-12d\n",
			c.ID, nw, tsvSafe(c.Name), c.CPU1s, c.CPU10s, c.Procs, c.Age, c.Memory)
	}
}

// writeStatsVerbose is `stats -v`: the root after the name (as wide as the
// longest root, '-' when empty as in list) and the reference count after
// the process count.
func writeStatsVerbose(w io.Writer, cells []kernel.Cell) {
	if len(cells) == 0 {
		fmt.Fprintln(w, "no cells")
		return
	}
	nw, rw := nameWidth(cells), len("ROOT")
	for _, c := range cells {
		rw = max(rw, len(orDash(c.Root)))
	}
	fmt.Fprintf(w, "%-8s %-*s %-*s %-10s %-10s %-8s %-8s %-8s %-12s\n",
		"ID", nw, "NAME", rw, "ROOT", "CPU1S", "CPU10S", "PROC", "REFS", "AGE", "MEMORY")
	for _, c := range cells {
		fmt.Fprintf(w, "%-8d %-*s %-*s %-10d %-10d %-8d %-8d %-8d %-12d\n",
			c.ID, nw, tsvSafe(c.Name), rw, orDash(tsvSafe(c.Root)), c.CPU1s, c.CPU10s, c.Procs, c.Refs, c.Age, c.Memory)
	}
}
