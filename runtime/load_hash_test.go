package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"cells/spec"
)

func loadHashes(t *testing.T, dir string) (spec.Hashes, string) {
	t.Helper()
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	ah, err := st.ApplyHash(st.Apply("web"))
	if err != nil {
		t.Fatal(err)
	}
	return st.CellHashes(st.Cell("web")), ah
}

// TestHashTableOrder declares the same state with every table written in a
// different key order (and numbers for strings): the hashes are equal.
func TestHashTableOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeFiles(t, a, map[string]string{"web.lua": `
cell("web", { autostart = true, create = { profile = "low", reserved_ports = "80" },
  supervise = { cmd = "x", log = { tag = "t", facility = "user" } } })
apply("web", { template("t", "/t", { mode = "0600", tokens = { a = "1", b = from_env("B"), c = "3" } }),
  script("s", { env = { X = "1", Y = "2" }, args = { "a" } }) })
`, "t": "T", "s": "S"})
	writeFiles(t, b, map[string]string{"web.lua": `
local tok = {}
tok.c = "3"; tok.b = from_env("B"); tok.a = "1"
apply("web", { actions = {
  { tokens = tok, target = "/t", kind = "template", mode = "0600", source = "t" },
  { kind = "script", args = { "a" }, path = "s", env = { Y = "2", X = "1" }, timeout = 0, ignore_exit = false } } })
cell("web", { supervise = { log = { facility = "user", tag = "t" }, cmd = "x" }, create = { reserved_ports = 80, profile = "low" }, autostart = true })
`, "t": "T", "s": "S"})
	ha, aa := loadHashes(t, a)
	hb, ab := loadHashes(t, b)
	if ha != hb || aa != ab {
		t.Fatalf("hashes differ:\n%+v %s\n%+v %s", ha, aa, hb, ab)
	}
}

// TestHashDirectoryMove loads a directory, moves it, loads it again.
func TestHashDirectoryMove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cellman")
	writeFiles(t, dir, map[string]string{
		"web.lua":        `cell("web", {}) apply("web", { copy("assets/i.html", "/srv/i.html"), untar("a.tgz", "/opt") })`,
		"assets/i.html":  "hi",
		"a.tgz":          "not really",
		"other/file.txt": "",
	})
	h1, a1 := loadHashes(t, dir)
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	h2, a2 := loadHashes(t, moved+"/")
	if h1 != h2 || a1 != a2 {
		t.Fatal("moving the directory changed the hashes")
	}
	if err := os.WriteFile(filepath.Join(moved, "assets/i.html"), []byte("ho"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, a3 := loadHashes(t, moved); a3 == a2 {
		t.Fatal("editing a source file did not change the apply hash")
	}
}
