package cellctl

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"cells/kernel"
)

// jsonVersion is the "__version" of cellctl's -J documents.
const jsonVersion = "1"

// writeJSON writes {"__version":"1","cells":[...]} with one object per row,
// keyed by the lower-cased TSV header in column order. Numbers are JSON
// numbers; an rlimit is its number or the string "unlimited", as in TSV.
func writeJSON(w io.Writer, header []string, rows [][]any) error {
	var b bytes.Buffer
	b.WriteString(`{"__version":"` + jsonVersion + `","cells":[`)
	for i, row := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, v := range row {
			if j > 0 {
				b.WriteByte(',')
			}
			if err := jsonValue(&b, strings.ToLower(header[j])); err != nil {
				return err
			}
			b.WriteByte(':')
			if r, ok := v.(kernel.Rlimit); ok {
				if r.String() == "unlimited" {
					v = "unlimited"
				} else {
					v = r.Value
				}
			}
			if err := jsonValue(&b, v); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	}
	b.WriteString("]}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// jsonValue appends v without HTML escaping (roots may contain '&' or '<').
func jsonValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
