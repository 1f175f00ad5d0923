package cellctl

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"cells/kernel"
	"cells/runtime/supervise"
)

// Family is one metric family of `cellctl stats -P`.
type Family struct {
	Name string // metric name, e.g. cell_age_seconds
	Help string // one line for # HELP
	Type string // "gauge" or "counter"
	// Value returns the sample of one cell; ok false omits the cell from
	// the family (a family without samples is not printed at all).
	Value func(c kernel.Cell) (v uint64, ok bool)
}

// Families are the families `stats -P` renders, in this order: upstream's
// six gauges (names and labels as upstream). A new family is one entry.
var Families = []Family{
	{"cell_cpu_ticks_1s", "CPU ticks (user, system, interrupt) used by the cell's processes during the last second.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.CPU1s, true }},
	{"cell_cpu_ticks_10s_avg", "Mean of the cell's last ten one-second CPU tick counts.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.CPU10s, true }},
	{"cell_processes_current", "Live processes in the cell.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.Procs, true }},
	{"cell_references_current", "Processes in the cell, zombies included.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.Refs, true }},
	{"cell_memory_vmsize_bytes", "Summed virtual size of the cell's processes in bytes.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.Memory, true }},
	{"cell_age_seconds", "Seconds since the cell was created.", "gauge",
		func(c kernel.Cell) (uint64, bool) { return c.Age, true }},
	// Counters kept by the cell's supervise monitor (cells without one
	// have no sample).
	{"cell_restarts_total", "Restarts of the cell's supervised command.", "counter",
		func(c kernel.Cell) (uint64, bool) {
			r, _, ok := supervise.ReadCounters(c.Name)
			return r, ok
		}},
	{"cell_log_lines_dropped_total", "Output lines of the supervised command not sent to syslog (rate limit or no syslog).", "counter",
		func(c kernel.Cell) (uint64, bool) {
			_, d, ok := supervise.ReadCounters(c.Name)
			return d, ok
		}},
}

// WritePrometheus writes cells in the Prometheus text exposition format
// 0.0.4: family by family (# HELP, # TYPE, then one sample per cell in the
// given order) with labels cid, name and root. No cells, no output.
func WritePrometheus(w io.Writer, cells []kernel.Cell) error {
	if len(cells) == 0 {
		return nil
	}
	bw := bufio.NewWriter(w)
	labels := make([]string, len(cells))
	for i, c := range cells {
		labels[i] = `{cid="` + strconv.FormatUint(uint64(c.ID), 10) + `",name="` + promLabel(c.Name) +
			`",root="` + promLabel(c.Root) + `"}`
	}
	for _, f := range Families {
		var samples []string
		for i, c := range cells {
			if v, ok := f.Value(c); ok {
				samples = append(samples, f.Name+labels[i]+" "+strconv.FormatUint(v, 10)+"\n")
			}
		}
		if len(samples) == 0 {
			continue
		}
		bw.WriteString("# HELP " + f.Name + " " + promHelp(f.Help) + "\n")
		bw.WriteString("# TYPE " + f.Name + " " + f.Type + "\n")
		for _, s := range samples {
			bw.WriteString(s)
		}
	}
	return bw.Flush()
}

// promLabel escapes a label value as upstream: backslash, double quote and
// LF escaped; CR and TAB become spaces.
var promLabel = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", " ", "\t", " ").Replace

// promHelp escapes HELP text (backslash and LF).
var promHelp = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace
