package cellctl

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"cells/kernel"
)

var promCells = []kernel.Cell{
	{ID: 1, Name: "web", Root: "/var/cellman/cells/web/root", CPU1s: 3, CPU10s: 2, Procs: 4, Refs: 5, Memory: 1 << 20, Age: 42},
	{ID: 7, Name: "db", Root: "/odd\\ \"root\"\n\r\t", Age: 1},
}

func TestWritePrometheusGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WritePrometheus(&b, promCells); err != nil {
		t.Fatal(err)
	}
	const l1 = `{cid="1",name="web",root="/var/cellman/cells/web/root"}`
	const l7 = `{cid="7",name="db",root="/odd\\ \"root\"\n  "}`
	want := "" +
		"# HELP cell_cpu_ticks_1s CPU ticks (user, system, interrupt) used by the cell's processes during the last second.\n" +
		"# TYPE cell_cpu_ticks_1s gauge\n" +
		"cell_cpu_ticks_1s" + l1 + " 3\n" +
		"cell_cpu_ticks_1s" + l7 + " 0\n" +
		"# HELP cell_cpu_ticks_10s_avg Mean of the cell's last ten one-second CPU tick counts.\n" +
		"# TYPE cell_cpu_ticks_10s_avg gauge\n" +
		"cell_cpu_ticks_10s_avg" + l1 + " 2\n" +
		"cell_cpu_ticks_10s_avg" + l7 + " 0\n" +
		"# HELP cell_processes_current Live processes in the cell.\n" +
		"# TYPE cell_processes_current gauge\n" +
		"cell_processes_current" + l1 + " 4\n" +
		"cell_processes_current" + l7 + " 0\n" +
		"# HELP cell_references_current Processes in the cell, zombies included.\n" +
		"# TYPE cell_references_current gauge\n" +
		"cell_references_current" + l1 + " 5\n" +
		"cell_references_current" + l7 + " 0\n" +
		"# HELP cell_memory_vmsize_bytes Summed virtual size of the cell's processes in bytes.\n" +
		"# TYPE cell_memory_vmsize_bytes gauge\n" +
		"cell_memory_vmsize_bytes" + l1 + " 1048576\n" +
		"cell_memory_vmsize_bytes" + l7 + " 0\n" +
		"# HELP cell_age_seconds Seconds since the cell was created.\n" +
		"# TYPE cell_age_seconds gauge\n" +
		"cell_age_seconds" + l1 + " 42\n" +
		"cell_age_seconds" + l7 + " 1\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWritePrometheusEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WritePrometheus(&b, nil); err != nil || b.Len() != 0 {
		t.Fatalf("no cells: %q, %v; want nothing", b.String(), err)
	}
}

// A family whose Value omits every cell is not printed; one that omits some
// cells prints only the others. This is how supervise counters plug in.
func TestWritePrometheusExtraFamily(t *testing.T) {
	saved := Families
	t.Cleanup(func() { Families = saved })
	Families = append(append([]Family(nil), saved...),
		Family{"cell_restarts_total", "Restarts.", "counter", func(c kernel.Cell) (uint64, bool) { return 9, c.ID == 7 }},
		Family{"cell_none_total", "Never.", "counter", func(c kernel.Cell) (uint64, bool) { return 0, false }})
	var b bytes.Buffer
	if err := WritePrometheus(&b, promCells); err != nil {
		t.Fatal(err)
	}
	want := "# HELP cell_restarts_total Restarts.\n# TYPE cell_restarts_total counter\n" +
		`cell_restarts_total{cid="7",name="db",root="/odd\\ \"root\"\n  "} 9` + "\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("tail of output:\n%s\nwant suffix:\n%s", b.String(), want)
	}
	if strings.Contains(b.String(), "cell_none_total") {
		t.Error("a family without samples was printed")
	}
	promtool(t, b.Bytes())
}

func TestWritePrometheusPromtool(t *testing.T) {
	var b bytes.Buffer
	if err := WritePrometheus(&b, promCells); err != nil {
		t.Fatal(err)
	}
	promtool(t, b.Bytes())
}

// promtool runs `promtool check metrics` on text (lint problems included).
func promtool(t *testing.T, text []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus): exposition not linted")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics: %v\n%s\ninput:\n%s", err, out, text)
	}
}
