// Package spec is the typed desired-state model of Cells: cells, volumes and
// applies decoded strictly from the documents the Lua DSL builds, the loading
// and cross-document rules (duplicates, dependencies), and the canonical
// SHA-256 hashes that drive drift detection. See cellman-spec(5).
package spec

// Site is where a document or value was declared.
type Site struct {
	File string // path of the .lua file as loaded (DSL dir joined with the name)
	Line int    // 0 when unknown
}

// Cell is a declared cell (cell(name, {...})).
type Cell struct {
	Name         string
	Site         Site
	Autostart    bool
	AutostartSet bool // the key was present
	DependsOn    []string
	Mounts       []Mount
	Healthcheck  string
	Create       Create
	Supervise    Supervise
}

// Create holds the cellctl create parameters, as declared (strings, as
// upstream passes them to cellctl; validated at load time).
type Create struct {
	Profile       string // low|medium|high or "" (cellctl default high)
	ReservedPorts string // comma list as declared, e.g. "8080,8443"
	RlimitNofile  string // decimal, "unlimited" or ""
	RlimitAS      string
	RlimitCore    string
}

// Supervise is the supervised service of a cell.
type Supervise struct {
	Cmd   string
	RunAs string // host:user[:group], cell:user[:group], uid:uid[:gid] or ""
	Log   Log
}

// Log configures how cellctl supervise forwards output to syslog.
type Log struct {
	Facility    string
	StdoutLevel string
	StderrLevel string
	Tag         string
}

// Mount is one declared mount: a volume name or an absolute host path,
// mounted at Target inside the cell, ro or rw.
type Mount struct {
	Source string
	Target string
	Mode   string // "ro" or "rw"
}

// Host reports whether the source is a host path (not a volume name).
func (m Mount) Host() bool { return len(m.Source) > 0 && m.Source[0] == '/' }

// String is the upstream internal spec "src:/target:mode".
func (m Mount) String() string { return m.Source + ":" + m.Target + ":" + m.Mode }

// Volume is a declared volume (volume(name, {mode = ...})).
type Volume struct {
	Name string
	Site Site
	Mode string // octal string as declared, or ""
}

// Apply is a declared apply document: the actions that configure cell Name.
type Apply struct {
	Name    string
	Site    Site
	Actions []Action
}

// Action is one action of an apply. Built-in kinds and operator-registered
// kinds share this shape: Args holds the action's validated fields as a
// canonical value tree (see Value), which is what is hashed and what the Lua
// apply engine receives back.
type Action struct {
	Kind string
	Site Site
	Args map[string]Value
	// Sources names the Args keys (string values) that are source files on
	// the host: relative paths resolve against the directory of the .lua
	// file, and the files' bytes are part of the apply hash.
	Sources []string
}

// State is the whole desired state loaded from a DSL directory, each list in
// load order (files sorted by name, documents in file order).
type State struct {
	Dir     string
	Cells   []*Cell
	Volumes []*Volume
	Applies []*Apply
}

// Cell returns the declared cell called name, or nil.
func (s *State) Cell(name string) *Cell {
	for _, c := range s.Cells {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Volume returns the declared volume called name, or nil.
func (s *State) Volume(name string) *Volume {
	for _, v := range s.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Apply returns the apply document called name, or nil.
func (s *State) Apply(name string) *Apply {
	for _, a := range s.Applies {
		if a.Name == name {
			return a
		}
	}
	return nil
}
