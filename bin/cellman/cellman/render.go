package cellman

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"cells/runtime"
)

// render prints rows in the format r asks for: a human table, TSV (-T) or
// JSON (-J). key names the JSON array ("cells" or "volumes").
func (c *cli) render(r readArgs, key string, fields []runtime.Field, rows []runtime.Row) error {
	w := bufio.NewWriter(c.stdout)
	switch {
	case r.json:
		writeJSON(w, key, fields, rows)
	case r.tsv:
		writeTSV(w, fields, rows, !r.noHeader)
	default:
		writeTable(w, fields, rows, os.Getenv("CELLMAN_CALL_CONTEXT") != "ipc")
	}
	return w.Flush()
}

// writeTSV prints the field names, then one line per row of raw values,
// TAB-separated, unescaped (upstream's contract).
func writeTSV(w *bufio.Writer, fields []runtime.Field, rows []runtime.Row, header bool) {
	if header {
		for i, f := range fields {
			if i > 0 {
				w.WriteByte('\t')
			}
			w.WriteString(f.Name)
		}
		w.WriteByte('\n')
	}
	for _, row := range rows {
		for i, f := range fields {
			if i > 0 {
				w.WriteByte('\t')
			}
			w.WriteString(row.Value(f.Name).Raw())
		}
		w.WriteByte('\n')
	}
}

// tableCell renders one value for a human table: booleans YES/NO, age
// humanized (unless ipc), empty as "-".
func tableCell(f runtime.Field, v runtime.Value, humanize bool) string {
	var s string
	switch {
	case v.Type == runtime.FieldBool && v.Bool:
		s = "YES"
	case v.Type == runtime.FieldBool:
		s = "NO"
	case f.Name == "age" && humanize && !v.Null:
		s = runtime.HumanAge(v.Num)
	default:
		s = v.Raw()
	}
	if s == "" {
		return "-"
	}
	return s
}

// writeTable prints upper-cased headers and left-aligned columns padded to
// the widest cell, two spaces apart, the last column padded too.
func writeTable(w *bufio.Writer, fields []runtime.Field, rows []runtime.Row, humanize bool) {
	lines := make([][]string, 0, len(rows)+1)
	head := make([]string, len(fields))
	for i, f := range fields {
		head[i] = strings.ToUpper(f.Name)
	}
	lines = append(lines, head)
	for _, row := range rows {
		line := make([]string, len(fields))
		for i, f := range fields {
			line[i] = tableCell(f, row.Value(f.Name), humanize)
		}
		lines = append(lines, line)
	}
	width := make([]int, len(fields))
	for _, line := range lines {
		for i, s := range line {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	for _, line := range lines {
		for i, s := range line {
			if i > 0 {
				w.WriteString("  ")
			}
			w.WriteString(s)
			w.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(s)))
		}
		w.WriteByte('\n')
	}
}

// writeJSON prints {"__version":"1","<key>":[{...},...]} on one line, the
// libxo shape: object keys are the field names in -o order (a repeated
// field appears once), numbers are numbers (null when absent), booleans
// are true/false, lists are arrays, everything else is a string.
func writeJSON(w *bufio.Writer, key string, fields []runtime.Field, rows []runtime.Row) {
	w.WriteString(`{"__version":"1",`)
	writeJSONString(w, key)
	w.WriteString(":[")
	for i, row := range rows {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('{')
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.Name] {
				continue
			}
			if len(seen) > 0 {
				w.WriteByte(',')
			}
			seen[f.Name] = true
			writeJSONString(w, f.Name)
			w.WriteByte(':')
			writeJSONValue(w, row.Value(f.Name))
		}
		w.WriteByte('}')
	}
	w.WriteString("]}\n")
}

func writeJSONValue(w *bufio.Writer, v runtime.Value) {
	switch v.Type {
	case runtime.FieldNumber:
		if v.Null {
			w.WriteString("null")
		} else {
			fmt.Fprint(w, v.Num)
		}
	case runtime.FieldBool:
		fmt.Fprint(w, v.Bool)
	case runtime.FieldList:
		w.WriteByte('[')
		for i, s := range v.List {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, s)
		}
		w.WriteByte(']')
	default:
		writeJSONString(w, v.Str)
	}
}

// writeJSONString writes s as a JSON string without HTML escaping.
func writeJSONString(w *bufio.Writer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// renderFields prints a view's field names: TSV under a "field" header,
// JSON as {"__version":"1","fields":[...]}, or a table under "FIELD" with
// each name padded to 24 columns.
func (c *cli) renderFields(r readArgs, fields []runtime.Field) error {
	w := bufio.NewWriter(c.stdout)
	switch {
	case r.json:
		w.WriteString(`{"__version":"1","fields":[`)
		for i, f := range fields {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, f.Name)
		}
		w.WriteString("]}\n")
	case r.tsv:
		if !r.noHeader {
			w.WriteString("field\n")
		}
		for _, f := range fields {
			w.WriteString(f.Name + "\n")
		}
	default:
		fmt.Fprintf(w, "%-24s\n", "FIELD")
		for _, f := range fields {
			fmt.Fprintf(w, "%-24s\n", f.Name)
		}
	}
	return w.Flush()
}
