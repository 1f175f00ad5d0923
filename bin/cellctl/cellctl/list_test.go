package cellctl

import (
	"bytes"
	"testing"

	"cells/kernel"
)

// Cells the kernel may report although cellctl create never makes them: an
// empty root, and line breaks or tabs that an older cellctl turned into
// nothing (reference §7.3: TAB, CR and LF print as spaces, empty as '-').
var oddCells = []kernel.Cell{
	{ID: 3, Name: "a", Root: "", Refs: 1, Procs: 1, Age: 5},
	{ID: 12, Name: "long-name", Root: "/r\tx\ny\rz", Age: 61,
		Rlimits: kernel.Rlimits{Nofile: kernel.Rlimit{Set: true, Value: 64}, AS: kernel.Rlimit{Set: true, Value: kernel.RlimitInfinity}}},
}

func TestWriteListTSVOdd(t *testing.T) {
	var b bytes.Buffer
	writeListTSV(&b, oddCells, true)
	want := "CID\tNAME\tREFS\tPROCS\tAGE\tROOT\tNOFILE\tAS\tCORE\n" +
		"3\ta\t1\t1\t5\t-\tunlimited\tunlimited\tunlimited\n" +
		"12\tlong-name\t0\t0\t61\t/r x y z\t64\tunlimited\tunlimited\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestWriteListHumanOdd(t *testing.T) {
	var b bytes.Buffer
	writeListHuman(&b, oddCells)
	want := "" +
		"ID       NAME      REFS     PROCS    AGE      NOFILE     AS         CORE       ROOT\n" +
		"3        a         1        1        5        unlimited  unlimited  unlimited  -\n" +
		"12       long-name 0        0        61       64         unlimited  unlimited  /r x y z\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteStatsOdd(t *testing.T) {
	var b bytes.Buffer
	writeStatsVerbose(&b, oddCells)
	want := "" +
		"ID       NAME      ROOT     CPU1S      CPU10S     PROC     REFS     AGE      MEMORY      \n" +
		"3        a         -        0          0          1        1        5        0           \n" +
		"12       long-name /r x y z 0          0          0        0        61       0           \n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}
