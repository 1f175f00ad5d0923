package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// View selects the side of the read snapshot a command shows (reference
// §2.3): the desired state, the runtime, both (merged), or the compact cell
// overview.
type View string

// The four views.
const (
	ViewMerged  View = "merged"
	ViewDesired View = "desired"
	ViewRuntime View = "runtime"
	ViewCompact View = "compact"
)

// ParseView parses a --view argument.
func ParseView(s string) (View, error) {
	switch v := View(s); v {
	case ViewMerged, ViewDesired, ViewRuntime, ViewCompact:
		return v, nil
	}
	return "", fmt.Errorf("invalid view '%s' (expected merged|desired|runtime|compact)", s)
}

// FieldType is how a field's value is typed in JSON output.
type FieldType int

// Field types.
const (
	FieldString FieldType = iota // a string; "" when empty
	FieldNumber                  // an unsigned integer; null when absent
	FieldBool                    // 1/0 in TSV, YES/NO in tables, true/false in JSON
	FieldList                    // comma-joined in TSV and tables, an array in JSON
)

// view availability bits of a field.
const (
	inDesired = 1 << iota
	inRuntime
	inCompact
)

// Field is one column of a read view.
type Field struct {
	Name  string
	Type  FieldType
	views int
}

// In reports whether the field is available in view v (merged offers all).
func (f Field) In(v View) bool {
	switch v {
	case ViewMerged:
		return true
	case ViewDesired:
		return f.views&inDesired != 0
	case ViewRuntime:
		return f.views&inRuntime != 0
	case ViewCompact:
		return f.views&inCompact != 0
	}
	return false
}

// Catalog is the field table of one object kind ("cell" or "volume") with
// the default field list of each view it supports.
type Catalog struct {
	Kind     string
	Fields   []Field // in upstream table order
	defaults map[View]string
}

// CellCatalog is the cell field table (reference §2.3, cell_field_defs).
var CellCatalog = &Catalog{
	Kind: "cell",
	Fields: []Field{
		{"name", FieldString, inDesired | inRuntime | inCompact},
		{"running", FieldBool, inRuntime | inCompact},
		{"state", FieldString, inDesired | inRuntime | inCompact},
		{"cid", FieldNumber, inRuntime | inCompact},
		{"refs", FieldNumber, inRuntime},
		{"procs", FieldNumber, inRuntime | inCompact},
		{"cpu1s", FieldNumber, inRuntime},
		{"cpu10s", FieldNumber, inRuntime},
		{"memory", FieldNumber, inRuntime},
		{"age", FieldNumber, inRuntime | inCompact},
		{"root", FieldString, inRuntime},
		{"autostart", FieldString, inDesired | inCompact},
		{"profile", FieldString, inDesired},
		{"reserved_ports", FieldString, inDesired | inCompact},
		{"rlimit_nofile", FieldString, inDesired},
		{"rlimit_as", FieldString, inDesired},
		{"rlimit_core", FieldString, inDesired},
		{"depends_on", FieldList, inDesired},
		{"healthcheck", FieldString, inDesired},
		{"supervise_cmd", FieldString, inDesired},
		{"volume_mounts", FieldList, inDesired},
		{"apply_present", FieldBool, inDesired},
		{"supervise_run_as", FieldString, inDesired | inRuntime},
	},
	defaults: map[View]string{
		ViewDesired: "name,state,autostart,profile,reserved_ports,rlimit_nofile,rlimit_as,rlimit_core,depends_on,healthcheck,volume_mounts,supervise_cmd,supervise_run_as,apply_present",
		ViewRuntime: "name,state,running,cid,procs,refs,cpu1s,cpu10s,memory,age,root,supervise_run_as",
		ViewCompact: "name,state,running,cid,procs,age,autostart,reserved_ports",
		ViewMerged:  "name,state,running,cid,procs,refs,cpu1s,cpu10s,memory,age,autostart,profile,reserved_ports,rlimit_nofile,rlimit_as,rlimit_core,root,supervise_cmd,supervise_run_as,apply_present",
	},
}

// VolumeCatalog is the volume field table (reference §2.3,
// volume_field_defs). Volumes have no compact view.
var VolumeCatalog = &Catalog{
	Kind: "volume",
	Fields: []Field{
		{"name", FieldString, inDesired | inRuntime},
		{"state", FieldString, inDesired | inRuntime},
		{"mode", FieldString, inDesired},
		{"path", FieldString, inRuntime},
		{"mounted", FieldBool, inRuntime},
		{"refs", FieldNumber, inDesired | inRuntime},
		{"used_by", FieldList, inDesired | inRuntime},
	},
	defaults: map[View]string{
		ViewDesired: "name,state,mode,refs,used_by",
		ViewRuntime: "name,state,path,mounted,refs,used_by",
		ViewMerged:  "name,state,refs,mounted,mode,path,used_by",
	},
}

// Supports reports whether the kind has view v.
func (c *Catalog) Supports(v View) bool {
	_, ok := c.defaults[v]
	return ok
}

// CheckView returns the error for a view the kind does not have
// ("volume: view 'compact' is not supported").
func (c *Catalog) CheckView(v View) error {
	if !c.Supports(v) {
		return fmt.Errorf("%s: view '%s' is not supported", c.Kind, v)
	}
	return nil
}

// Lookup returns the field called name.
func (c *Catalog) Lookup(name string) (Field, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Available returns the fields of view v in table order (what `fields`
// prints).
func (c *Catalog) Available(v View) []Field {
	var out []Field
	for _, f := range c.Fields {
		if f.In(v) {
			out = append(out, f)
		}
	}
	return out
}

// Defaults returns the default field list of view v.
func (c *Catalog) Defaults(v View) []Field {
	fs, err := c.Parse(c.defaults[v], v)
	if err != nil {
		panic("runtime: bad default field list: " + err.Error())
	}
	return fs
}

// Parse parses an -o argument for view v, as upstream's cell_fields_parse:
// comma-separated tokens of [a-z0-9_]+, empty tokens skipped, order and
// duplicates kept; "" selects the view's defaults.
func (c *Catalog) Parse(list string, v View) ([]Field, error) {
	if list == "" {
		list = c.defaults[v]
	}
	var out []Field
	for _, tok := range strings.Split(list, ",") {
		if tok == "" {
			continue
		}
		if !fieldTokenValid(tok) {
			return nil, fmt.Errorf("invalid field token '%s'", tok)
		}
		f, ok := c.Lookup(tok)
		if !ok {
			return nil, fmt.Errorf("%s: unknown field '%s'", c.Kind, tok)
		}
		if !f.In(v) {
			return nil, fmt.Errorf("%s: field '%s' is not available in view '%s'", c.Kind, tok, v)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: field list is empty", c.Kind)
	}
	return out, nil
}

func fieldTokenValid(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

// Value is one field of one row, typed.
type Value struct {
	Type FieldType
	Str  string   // FieldString
	Num  uint64   // FieldNumber, when !Null
	Null bool     // FieldNumber: no value (the cell is not running)
	Bool bool     // FieldBool
	List []string // FieldList
}

// Raw is the value as TSV prints it: numbers in decimal, booleans 1/0,
// lists comma-joined, absent numbers empty.
func (v Value) Raw() string {
	switch v.Type {
	case FieldNumber:
		if v.Null {
			return ""
		}
		return strconv.FormatUint(v.Num, 10)
	case FieldBool:
		if v.Bool {
			return "1"
		}
		return "0"
	case FieldList:
		return strings.Join(v.List, ",")
	}
	return v.Str
}

// Row is a snapshot row whose fields can be read by name.
type Row interface {
	Value(field string) Value
}

func vStr(s string) Value    { return Value{Type: FieldString, Str: s} }
func vBool(b bool) Value     { return Value{Type: FieldBool, Bool: b} }
func vList(l []string) Value { return Value{Type: FieldList, List: l} }
func vNum(n uint64) Value    { return Value{Type: FieldNumber, Num: n} }
func vOptNum(ok bool, n uint64) Value {
	return Value{Type: FieldNumber, Num: n, Null: !ok}
}

// HumanAge renders seconds as upstream's humanize_age: "Ns" below a
// minute, then "XmYs", "XhYm", "XdYh", and "XwYd" from a week on.
func HumanAge(sec uint64) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%ds", sec)
	case sec < 3600:
		return fmt.Sprintf("%dm%ds", sec/60, sec%60)
	case sec < 86400:
		return fmt.Sprintf("%dh%dm", sec/3600, sec%3600/60)
	case sec < 604800:
		return fmt.Sprintf("%dd%dh", sec/86400, sec%86400/3600)
	}
	return fmt.Sprintf("%dw%dd", sec/604800, sec%604800/86400)
}
