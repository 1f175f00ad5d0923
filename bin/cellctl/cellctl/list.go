package cellctl

import (
	"fmt"
	"io"
	"strings"

	"cells/kernel"
)

// list implements `cellctl list [-T] [-H]` (and -J).
func (c *cmd) list(args []string) error {
	set, rest, err := c.switches(args, "THJ")
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errUsage
	}
	tsv, noHeader := set['T'], set['H']
	if noHeader && !tsv {
		return fmt.Errorf("-H requires -T")
	}
	if c.json && tsv {
		return fmt.Errorf("-J is not valid with -T")
	}
	return c.withDriver(func(d kernel.Driver) error {
		cells, err := listCells(d)
		if err != nil {
			return err
		}
		switch {
		case c.json:
			return writeJSON(c.stdout, listHeader, listRows(cells))
		case tsv:
			writeListTSV(c.stdout, cells, !noHeader)
		default:
			writeListHuman(c.stdout, cells)
		}
		return nil
	})
}

// listHeader are the TSV columns of `list -T`.
var listHeader = []string{"CID", "NAME", "REFS", "PROCS", "AGE", "ROOT", "NOFILE", "AS", "CORE"}

// listRows returns the `list -T` rows as values, in listHeader order.
func listRows(cells []kernel.Cell) [][]any {
	rows := make([][]any, 0, len(cells))
	for _, c := range cells {
		rows = append(rows, []any{c.ID, c.Name, c.Refs, c.Procs, c.Age, c.Root,
			c.Rlimits.Nofile, c.Rlimits.AS, c.Rlimits.Core})
	}
	return rows
}

func writeListTSV(w io.Writer, cells []kernel.Cell, header bool) {
	if header {
		fmt.Fprintln(w, strings.Join(listHeader, "\t"))
	}
	for _, c := range cells {
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", c.ID, orDash(tsvSafe(c.Name)),
			c.Refs, c.Procs, c.Age, orDash(tsvSafe(c.Root)),
			c.Rlimits.Nofile, c.Rlimits.AS, c.Rlimits.Core)
	}
}

func writeListHuman(w io.Writer, cells []kernel.Cell) {
	if len(cells) == 0 {
		fmt.Fprintln(w, "no cells")
		return
	}
	nw := nameWidth(cells)
	fmt.Fprintf(w, "%-8s %-*s %-8s %-8s %-8s %-10s %-10s %-10s %s\n",
		"ID", nw, "NAME", "REFS", "PROCS", "AGE", "NOFILE", "AS", "CORE", "ROOT")
	for _, c := range cells {
		fmt.Fprintf(w, "%-8d %-*s %-8d %-8d %-8d %-10s %-10s %-10s %s\n",
			c.ID, nw, orDash(tsvSafe(c.Name)), c.Refs, c.Procs, c.Age,
			c.Rlimits.Nofile, c.Rlimits.AS, c.Rlimits.Core, orDash(tsvSafe(c.Root)))
	}
}

// nameWidth is the width of the NAME column: the longest name, at least
// the header.
func nameWidth(cells []kernel.Cell) int {
	w := len("NAME")
	for _, c := range cells {
		w = max(w, len(c.Name))
	}
	return w
}

// tsvSafe replaces TAB, CR and LF with spaces.
func tsvSafe(s string) string { return blankControls(s) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
