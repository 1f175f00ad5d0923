package cellman

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"cells/kernel"
	"cells/runtime"
	"cells/runtime/paths"
	"cells/spec"
)

// rowsFixture builds rows with awkward values: quotes, tabs, <>&, unicode.
func rowsFixture(t *testing.T) []runtime.Row {
	p := paths.New(t.TempDir(), "")
	st := &spec.State{Cells: []*spec.Cell{
		{Name: "web", Autostart: true, Healthcheck: `test "$(cat /x)" = '<a&b>'` + "\t\u00e9",
			DependsOn: []string{"db", "cache"},
			Mounts:    []spec.Mount{{Source: "v", Target: "/v", Mode: "ro"}}},
		{Name: "db"},
	}}
	cells := runtime.BuildCellRows(p, st, []kernel.Cell{{ID: 4, Name: "web", Procs: 2, Memory: 1 << 40, Age: 5}})
	var rows []runtime.Row
	for i := range cells {
		rows = append(rows, &cells[i])
	}
	return rows
}

func TestWriteJSONParses(t *testing.T) {
	rows := rowsFixture(t)
	for _, view := range []runtime.View{runtime.ViewMerged, runtime.ViewDesired, runtime.ViewRuntime, runtime.ViewCompact} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeJSON(w, "cells", runtime.CellCatalog.Available(view), rows)
		w.Flush()
		var doc struct {
			Version string           `json:"__version"`
			Cells   []map[string]any `json:"cells"`
		}
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatalf("%s: invalid JSON %q: %v", view, b.String(), err)
		}
		if doc.Version != "1" || len(doc.Cells) != 2 {
			t.Fatalf("%s: doc = %+v", view, doc)
		}
		// every field of the view is present with its type
		for _, f := range runtime.CellCatalog.Available(view) {
			for i, c := range doc.Cells {
				v, ok := c[f.Name]
				if !ok {
					t.Errorf("%s: row %d lacks %s", view, i, f.Name)
					continue
				}
				switch f.Type {
				case runtime.FieldNumber:
					if _, num := v.(float64); !num && v != nil {
						t.Errorf("%s: %s = %#v, want number or null", view, f.Name, v)
					}
				case runtime.FieldBool:
					if _, ok := v.(bool); !ok {
						t.Errorf("%s: %s = %#v, want bool", view, f.Name, v)
					}
				case runtime.FieldList:
					if _, ok := v.([]any); !ok {
						t.Errorf("%s: %s = %#v, want array", view, f.Name, v)
					}
				default:
					if _, ok := v.(string); !ok {
						t.Errorf("%s: %s = %#v, want string", view, f.Name, v)
					}
				}
			}
		}
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	fields, _ := runtime.CellCatalog.Parse("healthcheck,memory,depends_on,cid", runtime.ViewMerged)
	writeJSON(w, "cells", fields, rows)
	w.Flush()
	want := `{"__version":"1","cells":[{"healthcheck":"","memory":null,"depends_on":[],"cid":null},` +
		`{"healthcheck":"test \"$(cat /x)\" = '<a&b>'\t` + "\u00e9" + `","memory":1099511627776,"depends_on":["db","cache"],"cid":4}]}` + "\n"
	if b.String() != want {
		t.Errorf("JSON:\n got %s\nwant %s", b.String(), want)
	}
}

func TestWriteTable(t *testing.T) {
	rows := rowsFixture(t)
	fields, _ := runtime.CellCatalog.Parse("name,running,age,depends_on,memory", runtime.ViewMerged)
	for _, tc := range []struct {
		humanize bool
		want     string
	}{
		{true, "NAME  RUNNING  AGE  DEPENDS_ON  MEMORY       \n" +
			"db    NO       -    -           -            \n" +
			"web   YES      5s   db,cache    1099511627776\n"},
		{false, "NAME  RUNNING  AGE  DEPENDS_ON  MEMORY       \n" +
			"db    NO       -    -           -            \n" +
			"web   YES      5    db,cache    1099511627776\n"},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeTable(w, fields, rows, tc.humanize)
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("humanize=%v:\n got %q\nwant %q", tc.humanize, b.String(), tc.want)
		}
	}
}

func TestDispatchNoArgs(t *testing.T) {
	c := &cli{argv0: "cellman"}
	if err := c.dispatch(nil); err == nil || err.Error() != "missing command arguments" {
		t.Fatalf("dispatch(nil) = %v", err)
	}
}

func TestMainArgv0(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"/usr/sbin/cellman2", "nope"}, nil, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if got := errb.String(); got != "cellman2: unsupported command: nope\n" {
		t.Fatalf("stderr %q", got)
	}
	errb.Reset()
	Main([]string{"/usr/sbin/cellman2"}, nil, &out, &errb)
	if !strings.HasPrefix(errb.String(), "usage:\n  cellman2 apply ") {
		t.Fatalf("usage %q", errb.String())
	}
	if out.Len() != 0 {
		t.Fatalf("stdout %q", out.String())
	}
}
