package spec

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// Decode turns the documents list built by the luastd DSL (the calling
// VM's require("cells.site").state().documents) into a State fragment,
// strictly: every table must have exactly the documented fields and types,
// or the error names the document's file:line, the document and the key.
// Documents keep their order within each kind. The DSL validates values
// before this point; Decode guards the shape, so a meddled-with document
// table cannot smuggle data in.
//
// Document tables are positional (a keyed table costs gopher-lua two Go
// maps and a slice, and the DSL builds several per cell and per action);
// the field names below, by position, are what errors call them:
//
//	cell      { kind, name, file, line, autostart, depends_on, mounts, healthcheck, create, supervise }
//	create    { profile, reserved_ports, rlimit_nofile, rlimit_as, rlimit_core }
//	supervise { cmd, run_as, log }
//	log       { facility, stdout_level, stderr_level, tag }
//	volume    { kind, name, file, line, mode }
//	apply     { kind, name, file, line, actions }
//	action    { kind, file, line, args, sources }   -- args is keyed: { field = value }
//
// Any field may be nil except kind, name, file, line, actions, args.
func Decode(docs *lua.LTable) (*State, error) {
	st := &State{}
	n, err := arrayLen(docs)
	if err != nil {
		return nil, fmt.Errorf("documents: %v", err)
	}
	for i := 1; i <= n; i++ {
		t, ok := docs.RawGetInt(i).(*lua.LTable)
		if !ok {
			return nil, fmt.Errorf("documents: item %d is not a table", i)
		}
		d := &decoder{t: t, fields: headFields, label: &label{doc: i}}
		d.site.File = d.str("file", true)
		d.site.Line = d.int("line")
		kind := d.str("kind", true)
		name := d.str("name", true)
		if d.err == nil {
			d.label.kind, d.label.name, d.label.named = kind, name, true
		}
		switch kind {
		case "cell":
			d.fields = cellFields
			c := d.cell(name)
			if d.err == nil {
				st.Cells = append(st.Cells, c)
			}
		case "volume":
			d.fields = volumeFields
			v := &Volume{Name: name, Site: d.site, Mode: d.str("mode", false)}
			d.done()
			if d.err == nil {
				st.Volumes = append(st.Volumes, v)
			}
		case "apply":
			d.fields = applyFields
			a := d.apply(name)
			if d.err == nil {
				st.Applies = append(st.Applies, a)
			}
		default:
			d.fail("kind", "unknown document kind %q", kind)
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	return st, nil
}

// The fields of each document table, by position (see Decode).
var (
	headFields      = []string{"kind", "name", "file", "line"}
	volumeFields    = []string{"kind", "name", "file", "line", "mode"}
	cellFields      = []string{"kind", "name", "file", "line", "autostart", "depends_on", "mounts", "healthcheck", "create", "supervise"}
	createFields    = []string{"profile", "reserved_ports", "rlimit_nofile", "rlimit_as", "rlimit_core"}
	superviseFields = []string{"cmd", "run_as", "log"}
	logFields       = []string{"facility", "stdout_level", "stderr_level", "tag"}
	applyFields     = []string{"kind", "name", "file", "line", "actions"}
	actionFields    = []string{"kind", "file", "line", "args", "sources"}
)

// decoder reads one table, remembering the first error.
type decoder struct {
	t      *lua.LTable
	fields []string // the table's field names by position
	site   Site
	label  *label // what the errors name
	path   string // key prefix, "create."
	err    error
}

// label names a document ("document 2", "cell 'web'") or one of its actions
// ("apply 'web': action 1 (file)") in errors. It is formatted only when an
// error occurs: every loaded file decodes its documents.
type label struct {
	doc        int  // 1-based document index
	named      bool // kind and name decoded
	kind, name string
	action     int  // 1-based action index, 0 for the document itself
	kindSet    bool // actionKind decoded
	actionKind string
}

func (l *label) String() string {
	var s string
	if l.named {
		s = l.kind + " '" + l.name + "'"
	} else {
		s = fmt.Sprintf("document %d", l.doc)
	}
	if l.action > 0 {
		s += fmt.Sprintf(": action %d", l.action)
		if l.kindSet {
			s += " (" + l.actionKind + ")"
		}
	}
	return s
}

func (d *decoder) fail(key, format string, args ...any) {
	if d.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	d.err = fmt.Errorf("%s:%d: %s: key '%s%s': %s", d.site.File, d.site.Line, d.label, d.path, key, msg)
}

// get returns the field named key.
func (d *decoder) get(key string) lua.LValue {
	for i, f := range d.fields {
		if f == key {
			return d.t.RawGetInt(i + 1)
		}
	}
	panic("spec: decoder: no field " + key)
}

func (d *decoder) sub(key string, fields []string) *decoder {
	v := d.get(key)
	t, ok := v.(*lua.LTable)
	if !ok {
		if v != lua.LNil {
			d.fail(key, "expected table, got %s", v.Type())
		}
		t = &lua.LTable{}
	}
	return &decoder{t: t, fields: fields, site: d.site, label: d.label, path: d.path + key + "."}
}

// up copies a sub-decoder's error back.
func (d *decoder) up(s *decoder) {
	if d.err == nil {
		d.err = s.err
	}
}

func (d *decoder) str(key string, required bool) string {
	switch v := d.get(key).(type) {
	case lua.LString:
		return string(v)
	case *lua.LNilType:
		if required {
			d.fail(key, "missing")
		}
		return ""
	default:
		d.fail(key, "expected string, got %s", v.Type())
		return ""
	}
}

func (d *decoder) int(key string) int {
	v, ok := d.get(key).(lua.LNumber)
	if !ok || float64(v) != math.Trunc(float64(v)) || v < 0 || v > math.MaxInt32 {
		d.fail(key, "expected a line number")
		return 0
	}
	return int(v)
}

func (d *decoder) strList(key string) []string {
	v := d.get(key)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		d.fail(key, "expected array table, got %s", v.Type())
		return nil
	}
	n, err := arrayLen(t)
	if err != nil {
		d.fail(key, "%v", err)
		return nil
	}
	out := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			d.fail(key, "array item %d must be string", i)
			return nil
		}
		out = append(out, string(s))
	}
	return out
}

// done reports the first unknown key (sorted) of the table: any key but
// the positions of its fields.
func (d *decoder) done() {
	if d.err != nil {
		return
	}
	var bad []string
	for k, _ := d.t.Next(lua.LNil); k != lua.LNil; k, _ = d.t.Next(k) {
		switch k := k.(type) {
		case lua.LString:
			bad = append(bad, string(k))
		case lua.LNumber:
			if f := float64(k); f != math.Trunc(f) || f < 1 || f > float64(len(d.fields)) {
				bad = append(bad, "["+k.String()+"]")
			}
		default:
			bad = append(bad, "["+k.String()+"]")
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		d.fail(bad[0], "is unknown")
	}
}

func (d *decoder) cell(name string) *Cell {
	c := &Cell{Name: name, Site: d.site}
	switch v := d.get("autostart").(type) {
	case lua.LBool:
		c.Autostart, c.AutostartSet = bool(v), true
	case *lua.LNilType:
	default:
		d.fail("autostart", "must be boolean")
	}
	c.DependsOn = d.strList("depends_on")
	for _, s := range d.strList("mounts") {
		m, err := ParseMount(s)
		if err != nil {
			d.fail("mounts", "%v", err)
			break
		}
		c.Mounts = append(c.Mounts, m)
	}
	c.Healthcheck = d.str("healthcheck", false)

	cr := d.sub("create", createFields)
	c.Create = Create{
		Profile:       cr.str("profile", false),
		ReservedPorts: cr.str("reserved_ports", false),
		RlimitNofile:  cr.str("rlimit_nofile", false),
		RlimitAS:      cr.str("rlimit_as", false),
		RlimitCore:    cr.str("rlimit_core", false),
	}
	cr.done()
	d.up(cr)

	sv := d.sub("supervise", superviseFields)
	c.Supervise.Cmd = sv.str("cmd", false)
	c.Supervise.RunAs = sv.str("run_as", false)
	lg := sv.sub("log", logFields)
	c.Supervise.Log = Log{
		Facility:    lg.str("facility", false),
		StdoutLevel: lg.str("stdout_level", false),
		StderrLevel: lg.str("stderr_level", false),
		Tag:         lg.str("tag", false),
	}
	lg.done()
	sv.up(lg)
	sv.done()
	d.up(sv)
	d.done()
	return c
}

func (d *decoder) apply(name string) *Apply {
	a := &Apply{Name: name, Site: d.site}
	v := d.get("actions")
	t, ok := v.(*lua.LTable)
	if !ok {
		d.fail("actions", "expected array table, got %s", v.Type())
		return a
	}
	n, err := arrayLen(t)
	if err != nil {
		d.fail("actions", "%v", err)
		return a
	}
	for i := 1; i <= n && d.err == nil; i++ {
		at, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			d.fail("actions", "action %d must be table", i)
			break
		}
		al := *d.label
		al.action = i
		ad := &decoder{t: at, fields: actionFields, site: d.site, label: &al}
		act := Action{Kind: ad.str("kind", true)}
		act.Site.File = ad.str("file", true)
		act.Site.Line = ad.int("line")
		if ad.err == nil {
			ad.site = act.Site
			al.actionKind, al.kindSet = act.Kind, true
		}
		args := ad.get("args")
		m, err := decodeValue(args, 1)
		if err != nil {
			ad.fail("args", "%v", err)
		} else if mm, ok := m.(Map); ok {
			act.Args = mm
		} else if l, ok := m.(List); ok && len(l) == 0 {
			act.Args = Map{}
		} else {
			ad.fail("args", "expected table of named fields")
		}
		act.Sources = ad.strList("sources")
		if len(act.Sources) == 0 {
			act.Sources = nil
		}
		for _, s := range act.Sources {
			if _, ok := act.Args[s].(String); !ok {
				ad.fail("sources", "field '%s' is not a string argument", s)
			}
		}
		ad.done()
		d.up(ad)
		a.Actions = append(a.Actions, act)
	}
	d.done()
	return a
}

// arrayLen returns n when t has exactly the keys 1..n.
func arrayLen(t *lua.LTable) (int, error) {
	n := t.Len()
	count := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		count++
		f, ok := k.(lua.LNumber)
		if !ok || float64(f) != math.Trunc(float64(f)) || f < 1 || int(f) > n || count > n {
			return 0, fmt.Errorf("expected array table")
		}
	}
	if count != n {
		return 0, fmt.Errorf("expected array table")
	}
	return n, nil
}

// maxDepth bounds the nesting of action argument values.
const maxDepth = 32

// decodeValue converts a Lua value into a Value tree: strings, integral
// numbers (|n| < 2^53), booleans, from_env references
// ({__cellman_from_env = "NAME"}), arrays (keys exactly 1..n; the empty
// table is an empty List) and tables with string keys (Map).
func decodeValue(v lua.LValue, depth int) (Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value nested too deeply")
	}
	switch v := v.(type) {
	case lua.LString:
		return String(v), nil
	case lua.LBool:
		return Bool(v), nil
	case lua.LNumber:
		f := float64(v)
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("number %s is not an integer", strconv.FormatFloat(f, 'g', -1, 64))
		}
		if math.Abs(f) >= 1<<53 {
			return nil, fmt.Errorf("integer %s is out of range (|n| < 2^53)", strconv.FormatFloat(f, 'f', -1, 64))
		}
		return Int(int64(f)), nil
	case *lua.LTable:
		return decodeTable(v, depth)
	default:
		return nil, fmt.Errorf("unsupported value of type %s", v.Type())
	}
}

func decodeTable(t *lua.LTable, depth int) (Value, error) {
	if n, err := arrayLen(t); err == nil {
		l := make(List, 0, n)
		for i := 1; i <= n; i++ {
			e, err := decodeValue(t.RawGetInt(i), depth+1)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %v", i, err)
			}
			l = append(l, e)
		}
		return l, nil
	}
	var keys []string
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		s, ok := k.(lua.LString)
		if !ok {
			return nil, fmt.Errorf("table mixes array items and named keys")
		}
		keys = append(keys, string(s))
	}
	sort.Strings(keys)
	if len(keys) == 1 && keys[0] == fromEnvKey {
		s, ok := t.RawGetString(fromEnvKey).(lua.LString)
		if !ok || !validEnvName(string(s)) {
			return nil, fmt.Errorf("invalid environment variable name in from_env: %s", t.RawGetString(fromEnvKey).String())
		}
		return FromEnv(s), nil
	}
	m := make(Map, len(keys))
	for _, k := range keys {
		if k == fromEnvKey {
			return nil, fmt.Errorf("key %s is reserved for from_env()", fromEnvKey)
		}
		e, err := decodeValue(t.RawGetString(k), depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		m[k] = e
	}
	return m, nil
}

const fromEnvKey = "__cellman_from_env"

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}
