package runtime

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"cells/spec"
)

var addr = regexp.MustCompile(`0x[0-9a-f]+`)

// loadSeeds are FuzzLoad's seeds, also loaded by TestSharedDSLConcurrent.
var loadSeeds = []string{
	`cell("web", { autostart = true, depends_on = { "db" }, create = { reserved_ports = "80,443" } })`,
	`volume("data", { mode = "0750" }) cell("a", { mounts = { volume("data", { target = "/srv" }) } })`,
	`cell("h", { mounts = { host("/opt", { target = "/opt", mode = "ro" }), "v:/x:rw" } })`,
	`cell("s", { supervise = { cmd = "x", run_as = "cell:www:www", log = { facility = "local0", tag = "t", stdout_level = 6 } } })`,
	`apply("a", { pkg("x", "y"), exec("ls"), dir("/a", { mode = "0755" }), line("/a", "b"), symlink("/a", "/b") })`,
	`apply("a", { actions = { copy("s", "/t", { owner = "@run_uid" }), untar("s.tgz", "/t", { strip = 1 }), file("/f", "c"), patch("/p", "d", { strip = 0 }) } })`,
	`apply("a", { template("t", "/t", { tokens = { a = "b", c = from_env("HOME") } }), script("s.sh", { args = { "1" }, env = { A = "b" }, timeout = 5, ignore_exit = true }) })`,
	`apply("a", { { kind = "exec", command = "x" }, { kind = "pkg", packages = { "a" } } })`,
	`local a = require("cells.dsl.actions") a.register({ kind = "mine", fields = { { name = "v", type = "any" } }, positional = { "v" } }) apply("x", { a.builder("mine")({ 1, { k = true } }) })`,
	`cell("x", { autostrat = true })`,
	`for i = 1, 10 do cell("c" .. i, {}) end`,
	`local t = {} t.t = t apply("a", { { kind = "exec", command = t } })`,
	`error({})`,
	`cell(`,
	``,
}

// FuzzLoad feeds arbitrary Lua source to a single-file load: the loader,
// the DSL and the decoder must never panic or hang, VMs sharing the DSL
// builders must agree with a VM that loads its own (results and errors),
// and whatever loads must hash. Run with
//
//	go test -run '^$' -fuzz FuzzLoad ./runtime/
func FuzzLoad(f *testing.F) {
	for _, seed := range loadSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		opts := loadOptions{timeout: 250 * time.Millisecond}
		st, err := loadSource("fuzz.lua", []byte(src), opts)
		st2, err2 := loadSource("fuzz.lua", []byte(src), loadOptions{timeout: opts.timeout, ownDSL: true})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("shared and own DSL builders differ: %v vs %v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "failed to load fuzz.lua: ") && !strings.HasPrefix(err.Error(), "fuzz.lua: ") {
				t.Fatalf("error without the file: %v", err)
			}
			// Time limits may strike at different points; other errors
			// must repeat exactly.
			// Error values that are tables print their address.
			if addr.ReplaceAllString(err.Error(), "0x") != addr.ReplaceAllString(err2.Error(), "0x") && !strings.Contains(err.Error(), "time limit") && !strings.Contains(err2.Error(), "time limit") &&
				!strings.Contains(err.Error(), "memory limit") && !strings.Contains(err2.Error(), "memory limit") {
				t.Fatalf("shared and own DSL builders differ:\n%v\n%v", err, err2)
			}
			return
		}
		if !reflect.DeepEqual(st, st2) {
			t.Fatal("shared and own DSL builders differ")
		}
		st.Dir = "."
		for _, c := range st.Cells {
			st.CellHashes(c)
			for _, m := range c.Mounts {
				if _, err := spec.ParseMount(m.String()); err != nil {
					t.Fatalf("cell %s: loaded an invalid mount: %v", c.Name, err)
				}
			}
		}
		for _, a := range st.Applies {
			st.ApplyHash(a) // sources are missing here; it must not panic
		}
		st.DependencyOrder()
	})
}
