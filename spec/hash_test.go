package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func goldenCell() *Cell {
	return &Cell{
		Name: "web", Site: Site{File: "/etc/cellman/web.lua", Line: 3},
		Autostart: true, AutostartSet: true,
		DependsOn: []string{"db"},
		Mounts:    []Mount{{Source: "data", Target: "/srv", Mode: "rw"}},
		Create:    Create{Profile: "high", ReservedPorts: "8080"},
		Supervise: Supervise{Cmd: "httpd -f", RunAs: "cell:www", Log: Log{Facility: "daemon"}},
	}
}

// TestCellHashesGolden pins the encoding: a change here changes every
// stored hash and needs a new domain version (cells/service/v2...). The
// vectors were cross-checked with an independent implementation of the
// encoding as cellman-spec(5) documents it.
func TestCellHashesGolden(t *testing.T) {
	h := (&State{}).CellHashes(goldenCell())
	want := Hashes{
		Service:  "620820ab3268a923f718898a688a968ae1b039d386b5f170666c820170138dbb",
		Policy:   "a13789e735139290baa21e02de74091db4f45fec619bf328dcbed49c3c4d0355",
		Manifest: "ab9c2c74ec63fb569a79b46d3b743a8fab742717a19aa94a4fd7705d0f9d2a4f",
	}
	if h != want {
		t.Fatalf("hashes = %+v\nwant     %+v", h, want)
	}
	empty := (&State{}).CellHashes(&Cell{Name: "x"})
	if empty.Service != "7536c3728e19cad3f03777c6b4806240f9d1b7503d8b4bfefc44819f4099d792" {
		t.Fatalf("empty service = %s", empty.Service)
	}
}

func TestCellHashesScope(t *testing.T) {
	st := &State{}
	base := st.CellHashes(goldenCell())
	for _, tc := range []struct {
		name            string
		edit            func(c *Cell)
		service, policy bool
	}{
		{"site only", func(c *Cell) { c.Site = Site{File: "/elsewhere/x.lua", Line: 99} }, false, false},
		{"autostart", func(c *Cell) { c.Autostart = false }, true, false},
		{"cmd", func(c *Cell) { c.Supervise.Cmd = "httpd" }, true, false},
		{"run_as", func(c *Cell) { c.Supervise.RunAs = "" }, true, false},
		{"log tag", func(c *Cell) { c.Supervise.Log.Tag = "web" }, true, false},
		{"healthcheck", func(c *Cell) { c.Healthcheck = "true" }, true, false},
		{"depends_on", func(c *Cell) { c.DependsOn = nil }, true, false},
		{"mount mode", func(c *Cell) { c.Mounts[0].Mode = "ro" }, true, false},
		{"profile", func(c *Cell) { c.Create.Profile = "low" }, false, true},
		{"ports", func(c *Cell) { c.Create.ReservedPorts = "8081" }, false, true},
		{"rlimit", func(c *Cell) { c.Create.RlimitCore = "0" }, false, true},
		{"name", func(c *Cell) { c.Name = "web2" }, true, true},
		// Length prefixes keep field boundaries: moving a byte between
		// adjacent strings changes the hash.
		{"boundary", func(c *Cell) { c.Supervise.Cmd = "httpd -"; c.Supervise.RunAs = "fcell:www" }, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := goldenCell()
			tc.edit(c)
			h := st.CellHashes(c)
			if (h.Service != base.Service) != tc.service {
				t.Errorf("service changed = %v, want %v", h.Service != base.Service, tc.service)
			}
			if (h.Policy != base.Policy) != tc.policy {
				t.Errorf("policy changed = %v, want %v", h.Policy != base.Policy, tc.policy)
			}
			if (h.Manifest != base.Manifest) != (tc.service || tc.policy) {
				t.Errorf("manifest changed = %v", h.Manifest != base.Manifest)
			}
		})
	}
}

func goldenApply(dir string) (*State, *Apply) {
	st := &State{Dir: dir}
	a := &Apply{Name: "web", Site: Site{File: dir + "/web.lua", Line: 9}, Actions: []Action{
		{Kind: "exec", Args: map[string]Value{"command": String("echo hi")}},
		{Kind: "copy", Args: map[string]Value{"source": String("assets/index.html"), "target": String("/srv/index.html"), "mode": String("0644")},
			Sources: []string{"source"}},
		{Kind: "template", Args: map[string]Value{"source": String("t.tmpl"), "target": String("/etc/t"),
			"tokens": Map{"b": String("x"), "a": FromEnv("HOME")}}, Sources: []string{"source"}},
		{Kind: "custom", Args: map[string]Value{"n": Int(-2), "ok": Bool(true), "l": List{String("a"), Int(1)}}},
	}}
	return st, a
}

func writeSources(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"assets/index.html": "<h1>hi</h1>\n", "t.tmpl": "x={{ b }}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestApplyHashGolden(t *testing.T) {
	dir := t.TempDir()
	writeSources(t, dir)
	st, a := goldenApply(dir)
	h, err := st.ApplyHash(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := "58de3eecfd52c4e9e21db0bee7dbd9c663ce02114a422394a3dbc294f448d67f"; h != want {
		t.Fatalf("apply hash = %s\nwant         %s", h, want)
	}
}

func TestApplyHashProperties(t *testing.T) {
	dir := t.TempDir()
	writeSources(t, dir)
	st, a := goldenApply(dir)
	base, err := st.ApplyHash(a)
	if err != nil {
		t.Fatal(err)
	}

	// Moving the DSL directory keeps the hash.
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	st2, a2 := goldenApply(moved)
	if h, err := st2.ApplyHash(a2); err != nil || h != base {
		t.Fatalf("after move: %s, %v; want %s", h, err, base)
	}

	// Editing a source file changes it.
	if err := os.WriteFile(filepath.Join(moved, "t.tmpl"), []byte("x={{ a }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	edited, err := st2.ApplyHash(a2)
	if err != nil || edited == base {
		t.Fatalf("after edit: %s, %v", edited, err)
	}

	// Changing an argument, the kind, the order or the file name changes it.
	for _, tc := range []struct {
		name string
		edit func(a *Apply)
	}{
		{"arg", func(a *Apply) { a.Actions[0].Args["command"] = String("echo ho") }},
		{"int vs string", func(a *Apply) { a.Actions[3].Args["n"] = String("-2") }},
		{"from_env vs string", func(a *Apply) { a.Actions[2].Args["tokens"] = Map{"b": String("x"), "a": String("HOME")} }},
		{"order", func(a *Apply) { a.Actions[0], a.Actions[3] = a.Actions[3], a.Actions[0] }},
		{"file", func(a *Apply) { a.Site.File = filepath.Join(filepath.Dir(a.Site.File), "10-web.lua") }},
		{"name", func(a *Apply) { a.Name = "web2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, a := goldenApply(moved)
			tc.edit(a)
			h, err := st.ApplyHash(a)
			if err != nil || h == edited {
				t.Fatalf("hash unchanged (%v)", err)
			}
		})
	}
	// The site line is not part of it.
	st3, a3 := goldenApply(moved)
	a3.Site.Line = 1
	a3.Actions[0].Site = Site{File: "x", Line: 7}
	if h, _ := st3.ApplyHash(a3); h != edited {
		t.Fatal("site lines changed the hash")
	}
}

func TestApplyHashAbsoluteSource(t *testing.T) {
	src := filepath.Join(t.TempDir(), "abs.txt")
	if err := os.WriteFile(src, []byte("abs"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	hash := func(dir string) string {
		st := &State{Dir: dir}
		a := &Apply{Name: "x", Site: Site{File: dir + "/x.lua"}, Actions: []Action{
			{Kind: "copy", Args: map[string]Value{"source": String(src), "target": String("/a")}, Sources: []string{"source"}}}}
		if p, c := st.ResolveSource(a, src); p != src || c != src {
			t.Fatalf("ResolveSource = %s, %s", p, c)
		}
		h, err := st.ApplyHash(a)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if hash(dirA) != hash(dirB) {
		t.Fatal("absolute source hashed differently in two directories")
	}
}

func TestApplyHashMissingSource(t *testing.T) {
	dir := t.TempDir()
	st, a := goldenApply(dir)
	_, err := st.ApplyHash(a)
	want := "cannot open " + dir + "/assets/index.html: no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestResolveSourceRelative(t *testing.T) {
	st := &State{Dir: "/etc/cellman/"}
	a := &Apply{Site: Site{File: "/etc/cellman/web.lua"}}
	p, c := st.ResolveSource(a, "./assets/../assets/x")
	if p != "/etc/cellman/assets/x" || c != "assets/x" {
		t.Fatalf("ResolveSource = %s, %s", p, c)
	}
	if _, c := st.ResolveSource(a, "../shared/y"); c != "../shared/y" {
		t.Fatalf("canonical = %s", c)
	}
	if !strings.HasPrefix(DomainApply, "cells/") {
		t.Fatal("domain")
	}
}
