package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"cells/spec"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names[T any](list []*T, name func(*T) string) []string {
	var out []string
	for _, x := range list {
		out = append(out, name(x))
	}
	return out
}

func cellNames(st *spec.State) []string {
	return names(st.Cells, func(c *spec.Cell) string { return c.Name })
}

func TestLoadMissingDirIsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dir != dir || len(st.Cells)+len(st.Volumes)+len(st.Applies) != 0 {
		t.Fatalf("state = %+v, want empty", st)
	}
}

func TestLoadEmptyPath(t *testing.T) {
	_, err := LoadState("")
	if err == nil || err.Error() != "dsl directory path is empty" {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadNotADirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(f), map[string]string{"file": ""})
	_, err := LoadState(f)
	if err == nil || err.Error() != "cannot open "+f+": not a directory" {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadCandidateFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.lua":          `cell("b", {})`,
		"a.lua":          `cell("a", {})`,
		"B.lua":          `cell("B", {})`,
		"notes.txt":      `cell("txt", {})`,
		"x.LUA":          `cell("upper", {})`,
		"sub/c.lua":      `cell("sub", {})`,
		"dir.lua/d.lua":  `cell("dirlua", {})`,
		"target/real.lu": `cell("linked", {})`,
	})
	if err := os.Symlink(filepath.Join(dir, "target/real.lu"), filepath.Join(dir, "c.lua")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling.lua")); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Byte order of the paths: upper case first; the symlink loads as c.lua.
	want := []string{"B", "a", "b", "linked"}
	if got := cellNames(st); !reflect.DeepEqual(got, want) {
		t.Fatalf("cells = %v, want %v", got, want)
	}
	if got := st.Cells[3].Site.File; got != dir+"/c.lua" {
		t.Fatalf("site = %s", got)
	}
}

func TestLoadTrailingSlash(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.lua": `cell("a", {})`})
	st, err := LoadState(dir + "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Cells[0].Site.File; got != dir+"/a.lua" {
		t.Fatalf("site = %s, want no doubled slash", got)
	}
}

func TestLoadDuplicates(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"1.lua": `cell("web", {}) volume("web", {}) apply("web", {})`,
		"2.lua": `volume("data", {})`,
		"3.lua": `volume("data", {})`,
	})
	_, err := LoadState(dir)
	want := dir + "/3.lua: duplicate volume 'data' (already defined in " + dir + "/2.lua)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestLoadDuplicateInOneFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"1.lua": "cell(\"web\", {})\ncell(\"web\", {})"})
	_, err := LoadState(dir)
	want := dir + "/1.lua: duplicate cell 'web' (already defined in " + dir + "/1.lua)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestLoadSameNameAcrossKinds(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"web.lua": `
volume("web", { mode = "0755" })
cell("web", { mounts = { volume("web", { target = "/srv" }) } })
apply("web", { exec("true") })
`})
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cell("web") == nil || st.Volume("web") == nil || st.Apply("web") == nil {
		t.Fatalf("state = %+v", st)
	}
}

func TestLoadFirstErrorInFileOrder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 20; i++ {
		files[string(rune('a'+i))+".lua"] = `cell("c` + string(rune('a'+i)) + `", {})`
	}
	files["k.lua"] = `cell("k", { bad = 1 })`
	files["q.lua"] = `error("boom")`
	writeFiles(t, dir, files)
	for i := 0; i < 5; i++ {
		_, err := loadState(dir, loadOptions{workers: 4})
		if err == nil || !strings.HasPrefix(err.Error(), "failed to load "+dir+"/k.lua: ") {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestLoadLuaErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"runtime", "\nlocal x = nil\nx.y = 1", "P:3: attempt to index a non-table object(nil) with key 'y'"},
		{"error()", "error('custom failure')", "P:1: custom failure"},
		{"no os", "os.execute('true')", "P:1: attempt to index a non-table object(nil) with key 'execute'"},
		{"no io", "io.open('/etc/passwd')", "P:1: attempt to index a non-table object(nil) with key 'open'"},
		{"no dofile", "dofile('/etc/passwd')", "P:1: attempt to call a non-function object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, got := loadOne(t, tc.src)
			want := "failed to load " + path + ": " + strings.ReplaceAll(tc.want, "P", path)
			if got != want {
				t.Errorf("\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestLoadVarargs: the loader drops the main chunk's Lua 5.0 arg table
// (mainChunk); the chunk's ... and nested functions' arg still work.
func TestLoadVarargs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.lua": `
local n = select("#", ...)
local function count(...) return arg.n end
cell("c" .. n .. count(1, 2, 3), {})
`, "b.lua": `
local function count(...) return arg.n end
cell("d" .. count(1), {})
`})
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := cellNames(st); !reflect.DeepEqual(got, []string{"c03", "d1"}) {
		t.Fatalf("cells %v", got)
	}
}

func TestLoadSyntaxError(t *testing.T) {
	path, got := loadOne(t, "cell(\"a\", {")
	// The position format belongs to the VM's compiler; pin the frame.
	if !strings.HasPrefix(got, "failed to load "+path+": "+path) || !strings.Contains(got, "syntax error") {
		t.Fatalf("err = %s", got)
	}
}

func TestLoadTimeLimit(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"loop.lua": "while true do end"})
	start := time.Now()
	_, err := loadState(dir, loadOptions{timeout: 100 * time.Millisecond})
	if err == nil || !strings.HasPrefix(err.Error(), "failed to load "+dir+"/loop.lua: ") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s", d)
	}
}

// TestLoadDecodes checks the typed model the builders produce, defaults
// included.
func TestLoadDecodes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"web.lua": `
volume("data", { mode = 750 })
cell("web", {
  autostart = true,
  depends_on = { "db" },
  mounts = { volume("data", { target = "/srv/data" }), host("/usr/share", { target = "/share", mode = "ro" }), "logs:/var/log" },
  healthcheck = "true",
  create = { profile = "medium", reserved_ports = 8080, rlimit_nofile = 4096, rlimit_as = "unlimited", rlimit_core = "0" },
  supervise = { cmd = "httpd -f", run_as = "uid:80", log = { facility = "local3", stdout_level = 6, stderr_level = "err", tag = "web" } },
})
cell("db", {})
apply("web", { actions = {
  pkg("nginx", "curl"),
  template("assets/t.tmpl", "/etc/t", { mode = "0644", tokens = { b = "x", a = from_env("HOME") } }),
  script("s.sh", { args = { "-v" }, env = { A = "1" }, timeout = 10 }),
  untar("/abs/a.tgz", "/opt"),
  { kind = "exec", command = "echo hi" },
} })
`})
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	web := st.Cell("web")
	want := &spec.Cell{
		Name: "web", Site: spec.Site{File: dir + "/web.lua", Line: 3},
		Autostart: true, AutostartSet: true,
		DependsOn: []string{"db"},
		Mounts: []spec.Mount{
			{Source: "data", Target: "/srv/data", Mode: "rw"},
			{Source: "/usr/share", Target: "/share", Mode: "ro"},
			{Source: "logs", Target: "/var/log", Mode: "rw"},
		},
		Healthcheck: "true",
		Create:      spec.Create{Profile: "medium", ReservedPorts: "8080", RlimitNofile: "4096", RlimitAS: "unlimited", RlimitCore: "0"},
		Supervise: spec.Supervise{Cmd: "httpd -f", RunAs: "uid:80",
			Log: spec.Log{Facility: "local3", StdoutLevel: "6", StderrLevel: "err", Tag: "web"}},
	}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("cell\n got %+v\nwant %+v", web, want)
	}
	if db := st.Cell("db"); db.AutostartSet || db.Autostart || len(db.Mounts) != 0 {
		t.Errorf("db = %+v", db)
	}
	if v := st.Volume("data"); v.Mode != "750" || v.Site.Line != 2 {
		t.Errorf("volume = %+v", v)
	}
	a := st.Apply("web")
	if a.Site.Line != 12 || len(a.Actions) != 5 {
		t.Fatalf("apply = %+v", a)
	}
	wantActs := []spec.Action{
		{Kind: "pkg", Site: spec.Site{File: dir + "/web.lua", Line: 13},
			Args: map[string]spec.Value{"packages": spec.List{spec.String("nginx"), spec.String("curl")}}},
		{Kind: "template", Site: spec.Site{File: dir + "/web.lua", Line: 14},
			Args: map[string]spec.Value{"source": spec.String("assets/t.tmpl"), "target": spec.String("/etc/t"),
				"mode": spec.String("0644"), "tokens": spec.Map{"a": spec.FromEnv("HOME"), "b": spec.String("x")}},
			Sources: []string{"source"}},
		{Kind: "script", Site: spec.Site{File: dir + "/web.lua", Line: 15},
			Args: map[string]spec.Value{"path": spec.String("s.sh"), "args": spec.List{spec.String("-v")},
				"env": spec.Map{"A": spec.String("1")}, "timeout": spec.Int(10), "ignore_exit": spec.Bool(false)},
			Sources: []string{"path"}},
		{Kind: "untar", Site: spec.Site{File: dir + "/web.lua", Line: 16},
			Args:    map[string]spec.Value{"source": spec.String("/abs/a.tgz"), "target": spec.String("/opt"), "strip": spec.Int(0)},
			Sources: []string{"source"}},
		{Kind: "exec", Site: spec.Site{File: dir + "/web.lua", Line: 12},
			Args: map[string]spec.Value{"command": spec.String("echo hi")}},
	}
	for i, w := range wantActs {
		if !reflect.DeepEqual(a.Actions[i], w) {
			t.Errorf("action %d\n got %#v\nwant %#v", i+1, a.Actions[i], w)
		}
	}
}

// TestLoadParallelDeterministic loads the same directory with one and with
// several workers and expects identical states.
func TestLoadParallelDeterministic(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 30; i++ {
		n := strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		files[n+".lua"] = `cell("` + n + `", {}) apply("` + n + `", { exec("true") })`
	}
	writeFiles(t, dir, files)
	one, err := loadState(dir, loadOptions{workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	many, err := loadState(dir, loadOptions{workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, many) {
		t.Fatal("parallel load differs from sequential load")
	}
}
