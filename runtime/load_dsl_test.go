package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// loadOne writes src as <tmp>/t.lua, loads the directory and returns the
// path and the error text ("" on success).
func loadOne(t *testing.T, src string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir)
	// The VMs share the DSL builders; a VM with its own copy (as with
	// custom actions) must come to the same result.
	own, ownErr := loadState(dir, loadOptions{ownDSL: true})
	if fmt.Sprint(err) != fmt.Sprint(ownErr) || !reflect.DeepEqual(st, own) {
		t.Errorf("shared builders: %v, %+v\nown builders: %v, %+v", err, st, ownErr, own)
	}
	if err != nil {
		return path, err.Error()
	}
	return path, ""
}

// TestDSLErrors pins every load-time DSL error: the message names the
// operator's file:line, the document, and the key.
func TestDSLErrors(t *testing.T) {
	ports33 := make([]string, 33)
	for i := range ports33 {
		ports33[i] = strconv.Itoa(i + 1)
	}
	tests := []struct {
		name, src, want string
	}{
		{"register built-in", `require("cells.dsl.actions").register({ kind = "file", fields = {} })`,
			`P:1: action kind file is built in`},
		{"unknown cell key", `cell("web", { autostrat = true })`,
			`P:1: cell 'web': key 'autostrat' is unknown (did you mean 'autostart'?)`},
		{"unknown key no hint", `cell("web", { colour = "red" })`,
			`P:1: cell 'web': key 'colour' is unknown`},
		{"autostart type", `cell("web", { autostart = "yes" })`,
			`P:1: cell 'web': key 'autostart' must be boolean`},
		{"line of the call", "-- comment\n\ncell(\"web\", {\n  autostart = 1,\n})",
			`P:3: cell 'web': key 'autostart' must be boolean`},
		{"port zero", `cell("web", { create = { reserved_ports = "0" } })`,
			`P:1: cell 'web': create.reserved_ports: invalid reserved port: 0`},
		{"port too big", `cell("web", { create = { reserved_ports = 70000 } })`,
			`P:1: cell 'web': create.reserved_ports: invalid reserved port: 70000`},
		{"port garbage", `cell("web", { create = { reserved_ports = "80, 443" } })`,
			`P:1: cell 'web': create.reserved_ports: invalid reserved port:  443`},
		{"port duplicate", `cell("web", { create = { reserved_ports = "80,080" } })`,
			`P:1: cell 'web': create.reserved_ports: duplicate reserved port: 80`},
		{"ports too many", `cell("web", { create = { reserved_ports = "` + strings.Join(ports33, ",") + `" } })`,
			`P:1: cell 'web': create.reserved_ports: too many reserved ports (max 32)`},
		{"ports type", `cell("web", { create = { reserved_ports = {80} } })`,
			`P:1: cell 'web': key 'create.reserved_ports' must be string`},
		{"create unknown", `cell("web", { create = { profle = "low" } })`,
			`P:1: cell 'web': key 'create.profle' is unknown (did you mean 'create.profile'?)`},
		{"profile", `cell("web", { create = { profile = "max" } })`,
			`P:1: cell 'web': create.profile: invalid profile 'max' (expected low|medium|high)`},
		{"rlimit", `cell("web", { create = { rlimit_nofile = "lots" } })`,
			`P:1: cell 'web': create.rlimit_nofile: invalid rlimit nofile: lots`},
		{"rlimit overflow", `cell("web", { create = { rlimit_as = "18446744073709551616" } })`,
			`P:1: cell 'web': create.rlimit_as: invalid rlimit as: 18446744073709551616`},
		{"rlimit fraction", `cell("web", { create = { rlimit_core = 1.5 } })`,
			`P:1: cell 'web': create.rlimit_core: invalid rlimit core: 1.5`},
		{"create type", `cell("web", { create = "high" })`,
			`P:1: cell 'web': create section must be table`},
		{"supervise type", `cell("web", { supervise = "httpd" })`,
			`P:1: cell 'web': supervise section must be table`},
		{"supervise unknown", `cell("web", { supervise = { comd = "httpd" } })`,
			`P:1: cell 'web': key 'supervise.comd' is unknown (did you mean 'supervise.cmd'?)`},
		{"cmd type", `cell("web", { supervise = { cmd = true } })`,
			`P:1: cell 'web': key 'supervise.cmd' must be string`},
		{"log type", `cell("web", { supervise = { log = "daemon" } })`,
			`P:1: cell 'web': supervise.log must be table`},
		{"log unknown", `cell("web", { supervise = { log = { facilty = "daemon" } } })`,
			`P:1: cell 'web': key 'supervise.log.facilty' is unknown (did you mean 'supervise.log.facility'?)`},
		{"facility", `cell("web", { supervise = { log = { facility = "local8" } } })`,
			`P:1: cell 'web': supervise.log.facility: invalid log facility: local8`},
		{"level name", `cell("web", { supervise = { log = { stdout_level = "loud" } } })`,
			`P:1: cell 'web': supervise.log.stdout_level: invalid log level: loud`},
		{"level range", `cell("web", { supervise = { log = { stderr_level = 9 } } })`,
			`P:1: cell 'web': supervise.log.stderr_level: log level out of range: 9`},
		{"tag", `cell("web", { supervise = { log = { tag = string.rep("x", 64) } } })`,
			`P:1: cell 'web': supervise.log.tag: invalid log tag`},
		{"run_as uid parts", `cell("web", { supervise = { run_as = "uid:1:2:3" } })`,
			`P:1: cell 'web': supervise.run_as: invalid run_as 'uid:1:2:3' (expected uid:uid[:gid])`},
		{"run_as uid text", `cell("web", { supervise = { run_as = "uid:www" } })`,
			`P:1: cell 'web': supervise.run_as: invalid run_as 'uid:www' (expected uid:uid[:gid])`},
		{"run_as host token", `cell("web", { supervise = { run_as = "host:bad user" } })`,
			`P:1: cell 'web': supervise.run_as: invalid run_as 'host:bad user' (host user/group token)`},
		{"run_as cell user", `cell("web", { supervise = { run_as = "cell:w@w" } })`,
			`P:1: cell 'web': supervise.run_as: invalid cell user in run_as: w@w`},
		{"run_as cell group", `cell("web", { supervise = { run_as = "cell:www:bad grp" } })`,
			`P:1: cell 'web': supervise.run_as: invalid cell group in run_as: bad grp`},
		{"run_as other", `cell("web", { supervise = { run_as = "www" } })`,
			`P:1: cell 'web': supervise.run_as: invalid run_as 'www' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])`},
		{"depends_on type", `cell("web", { depends_on = "db" })`,
			`P:1: cell 'web': key 'depends_on': expected array table`},
		{"depends_on item", `cell("web", { depends_on = { "db", 3 } })`,
			`P:1: cell 'web': key 'depends_on': array item 2 must be string`},
		{"depends_on name", `cell("web", { depends_on = { "d b" } })`,
			`P:1: cell 'web': depends_on[1]: invalid cell name 'd b' (allowed: A-Za-z0-9._-)`},
		{"depends_on dup", `cell("web", { depends_on = { "db", "db" } })`,
			`P:1: cell 'web': depends_on[2]: duplicate entry 'db'`},
		{"depends_on dup long", `cell("web", { depends_on = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "e", "x y" } })`,
			`P:1: cell 'web': depends_on[10]: duplicate entry 'e'`},
		{"port duplicate later", `cell("web", { create = { reserved_ports = "1,2,3,2" } })`,
			`P:1: cell 'web': create.reserved_ports: duplicate reserved port: 2`},
		{"healthcheck type", `cell("web", { healthcheck = {} })`,
			`P:1: cell 'web': key 'healthcheck' must be string`},
		{"cell name", `cell("bad name", {})`,
			`P:1: invalid cell name 'bad name' (allowed: A-Za-z0-9._-)`},
		{"cell name dotdot", `cell("..", {})`,
			`P:1: invalid cell name '..' (allowed: A-Za-z0-9._-)`},
		{"mount dot volume", `cell("web", { mounts = { ".:/srv" } })`,
			`P:1: cell 'web': mounts[1]: invalid volume mount source: .`},
		{"cell name type", `cell(42, {})`,
			`P:1: cell name must be string`},
		{"cell table", `cell("web")`,
			`P:1: cell 'web': cell table expected, got nil`},
		{"cell array key", `cell("web", { "x" })`,
			`P:1: cell 'web': key '[1]' is unknown (expected named keys)`},

		{"mount forbidden target", `cell("web", { mounts = { "data:/dev/shm" } })`,
			`P:1: cell 'web': mounts[1]: mount target is not allowed: /dev/shm`},
		{"mount overlay target", `cell("web", { mounts = { "data:/.overlay" } })`,
			`P:1: cell 'web': mounts[1]: mount target is not allowed: /.overlay`},
		{"mount root target", `cell("web", { mounts = { "data:/" } })`,
			`P:1: cell 'web': mounts[1]: mount target is not allowed: /`},
		{"mount relative target", `cell("web", { mounts = { "data:srv" } })`,
			`P:1: cell 'web': mounts[1]: mount target must be absolute: srv`},
		{"mount unclean target", `cell("web", { mounts = { "data:/srv/../dev" } })`,
			`P:1: cell 'web': mounts[1]: mount target is not a clean path: /srv/../dev`},
		{"mount empty", `cell("web", { mounts = { "" } })`,
			`P:1: cell 'web': mounts[1]: empty mount specification`},
		{"mount no target", `cell("web", { mounts = { "data" } })`,
			`P:1: cell 'web': mounts[1]: invalid mount specification 'data' (expected source:/target[:ro|rw])`},
		{"mount colons", `cell("web", { mounts = { "data:/a:rw:x" } })`,
			`P:1: cell 'web': mounts[1]: invalid mount specification 'data:/a:rw:x' (too many ':')`},
		{"mount empty source", `cell("web", { mounts = { ":/a" } })`,
			`P:1: cell 'web': mounts[1]: mount source cannot be empty`},
		{"mount root source", `cell("web", { mounts = { "/:/a" } })`,
			`P:1: cell 'web': mounts[1]: host mount source is not allowed: /`},
		{"mount bad volume", `cell("web", { mounts = { "da ta:/a" } })`,
			`P:1: cell 'web': mounts[1]: invalid volume mount source: da ta`},
		{"mount mode", `cell("web", { mounts = { "data:/a:rx" } })`,
			`P:1: cell 'web': mounts[1]: mount mode must be ro or rw: rx`},
		{"mount overlap", `cell("web", { mounts = { "a:/srv", "b:/srv/x" } })`,
			`P:1: cell 'web': mounts: overlapping mount targets are not allowed: /srv and /srv/x`},
		{"mount same", `cell("web", { mounts = { "a:/srv", "/opt:/srv:ro" } })`,
			`P:1: cell 'web': mounts: overlapping mount targets are not allowed: /srv and /srv`},
		{"mount builder target", "cell(\"web\", {\n mounts = { volume(\"data\", { target = \"srv\" }) } })",
			`P:2: volume("data") mount: mount target must be absolute path`},
		{"mount builder target type", `x = volume("data", { target = 5 })`,
			`P:1: volume("data") mount: mount options require string target`},
		{"mount builder mode", `x = volume("data", { target = "/srv", mode = "rx" })`,
			`P:1: volume("data") mount: mount mode must be ro or rw`},
		{"mount builder mode type", `x = host("/opt", { target = "/srv", mode = true })`,
			`P:1: host("/opt"): mount mode must be string ro|rw`},
		{"mount builder unknown", `x = host("/opt", { target = "/srv", mdoe = "ro" })`,
			`P:1: host("/opt"): key 'mdoe' is unknown (did you mean 'mode'?)`},
		{"mount builder forbidden", `x = host("/opt", { target = "/dev" })`,
			`P:1: host("/opt"): mount target is not allowed: /dev`},
		{"host relative", `x = host("opt", { target = "/srv" })`,
			`P:1: host("opt"): host mount source must be absolute path`},
		{"host root", `x = host("/", { target = "/srv" })`,
			`P:1: host("/"): host mount source is not allowed: /`},
		{"host opts", `x = host("/opt", "/srv")`,
			`P:1: host("/opt"): mount options must be table`},

		{"volume mode", `volume("data", { mode = "999" })`,
			`P:1: volume 'data': mode: invalid volume mode: 999`},
		{"volume unknown", `volume("data", { mdoe = "0755" })`,
			`P:1: volume 'data': key 'mdoe' is unknown (did you mean 'mode'?)`},
		{"volume name", `volume("da/ta", {})`,
			`P:1: invalid volume name 'da/ta' (allowed: A-Za-z0-9._-)`},

		{"apply name", `apply("", {})`,
			`P:1: invalid apply name '' (allowed: A-Za-z0-9._-)`},
		{"apply table", `apply("web", "x")`,
			`P:1: apply 'web': apply table expected, got string`},
		{"apply actions type", `apply("web", { actions = "x" })`,
			`P:1: apply 'web': apply actions section must be array table when present`},
		{"apply actions extra", `apply("web", { actions = {}, action = 1 })`,
			`P:1: apply 'web': key 'action' is unknown (did you mean 'actions'?)`},
		{"apply mixed", `apply("web", { exec("x"), actoins = {} })`,
			`P:1: apply 'web': key 'actoins' is unknown (did you mean 'actions'?)`},
		{"action not table", `apply("web", { "ls" })`,
			`P:1: apply 'web': action 1: action must be table`},
		{"action no kind", `apply("web", { { command = "ls" } })`,
			`P:1: apply 'web': action 1: missing required key 'kind'`},
		{"action kind type", `apply("web", { { kind = 1 } })`,
			`P:1: apply 'web': action 1: key 'kind' must be string`},
		{"action unknown kind", `apply("web", { { kind = "exce", command = "ls" } })`,
			`P:1: apply 'web': action 1: unknown action kind: exce (did you mean 'exec'?)`},
		{"raw unknown field", `apply("web", { { kind = "exec", command = "x", comand = "y" } })`,
			`P:1: apply 'web': action 1 (exec): key 'comand' is unknown (did you mean 'command'?)`},
		{"raw missing field", `apply("web", { { kind = "line", path = "/etc/x" } })`,
			`P:1: apply 'web': action 1 (line): missing required key 'text'`},
		{"helper line", "apply(\"web\", {\n  exec(\"ls\"),\n  dir(\"rel\"),\n})",
			`P:3: apply 'web': action 2 (dir): target path must be absolute in apply action: rel`},
		{"helper opts unknown", "apply(\"web\", {\n  copy(\"a\", \"/b\", { mdoe = \"0644\" }),\n})",
			`P:2: copy(): key 'mdoe' is unknown (did you mean 'mode'?)`},
		{"helper opts positional", `apply("web", { copy("a", "/b", { target = "/c" }) })`,
			`P:1: copy(): key 'target' is unknown`},
		{"helper opts type", `apply("web", { dir("/a", "0755") })`,
			`P:1: dir(): dir options must be table`},
		{"helper args", `apply("web", { exec("a", "b") })`,
			`P:1: exec(): exec takes at most 1 arguments, got 2`},
		{"copy mode type", `apply("web", { copy("a", "/b", { mode = 644 }) })`,
			`P:1: apply 'web': action 1 (copy): copy options mode/owner/group must be strings`},
		{"copy mode value", `apply("web", { copy("a", "/b", { mode = "0648" }) })`,
			`P:1: apply 'web': action 1 (copy): invalid mode: 0648`},
		{"file owner", `apply("web", { file("/a", "x", { owner = "we b" }) })`,
			`P:1: apply 'web': action 1 (file): invalid owner: we b`},
		{"dir group", `apply("web", { dir("/a", { group = "a:b" }) })`,
			`P:1: apply 'web': action 1 (dir): invalid group: a:b`},
		{"copy empty source", `apply("web", { copy("", "/b") })`,
			`P:1: apply 'web': action 1 (copy): key 'source' must not be empty`},
		{"untar strip", `apply("web", { untar("a.tgz", "/b", { strip = -1 }) })`,
			`P:1: apply 'web': action 1 (untar): untar option strip must be integer`},
		{"patch strip", `apply("web", { { kind = "patch", path = "/a", content = "x", strip = 1.5 } })`,
			`P:1: apply 'web': action 1 (patch): patch option strip must be integer`},
		{"template token_env", `apply("web", { template("a", "/b", { token_env = { x = "HOME" } }) })`,
			`P:1: template(): template token_env is deprecated; use tokens={name=from_env("ENV")}`},
		{"template env_tokens raw", `apply("web", { { kind = "template", source = "a", target = "/b", env_tokens = {} } })`,
			`P:1: apply 'web': action 1 (template): template token_env is deprecated; use tokens={name=from_env("ENV")}`},
		{"template tokens type", `apply("web", { template("a", "/b", { tokens = "x" }) })`,
			`P:1: apply 'web': action 1 (template): template tokens must be table`},
		{"template token name", `apply("web", { template("a", "/b", { tokens = { ["bad-name"] = "x" } }) })`,
			`P:1: apply 'web': action 1 (template): invalid token name: bad-name`},
		{"template token key type", `apply("web", { template("a", "/b", { tokens = { "x" } }) })`,
			`P:1: apply 'web': action 1 (template): template token names must be strings`},
		{"template token value", `apply("web", { template("a", "/b", { tokens = { a = 1 } }) })`,
			`P:1: apply 'web': action 1 (template): template token 'a' must be string or from_env("ENV")`},
		{"from_env name", `x = from_env("1BAD")`,
			`P:1: from_env(): invalid environment variable name in from_env: 1BAD`},
		{"script env name", `apply("web", { script("s.sh", { env = { ["A-B"] = "x" } }) })`,
			`P:1: apply 'web': action 1 (script): invalid environment variable name: A-B`},
		{"script env value", `apply("web", { script("s.sh", { env = { A = 1 } }) })`,
			`P:1: apply 'web': action 1 (script): env keys and values must be strings`},
		{"script env type", `apply("web", { script("s.sh", { env = "A=1" }) })`,
			`P:1: apply 'web': action 1 (script): env must be table`},
		{"script args", `apply("web", { script("s.sh", { args = { "a", 2 } }) })`,
			`P:1: apply 'web': action 1 (script): key 'args': array item 2 must be string`},
		{"script ignore_exit", `apply("web", { script("s.sh", { ignore_exit = "yes" }) })`,
			`P:1: apply 'web': action 1 (script): key 'ignore_exit' must be boolean`},
		{"script timeout", `apply("web", { script("s.sh", { timeout = "10" }) })`,
			`P:1: apply 'web': action 1 (script): key 'timeout' must be non-negative integer`},
		{"script cwd", `apply("web", { script("s.sh", { cwd = "tmp" }) })`,
			`P:1: apply 'web': action 1 (script): target path must be absolute in apply action: tmp`},
		{"pkg none", `apply("web", { pkg() })`,
			`P:1: pkg(): pkg requires at least one package`},
		{"pkg arg type", `apply("web", { pkg("a", 1) })`,
			`P:1: pkg(): pkg arguments must be strings`},
		{"pkg list type", `apply("web", { pkg({ "a", 1 }) })`,
			`P:1: pkg(): pkg list entries must be strings`},
		{"pkg raw empty", `apply("web", { { kind = "pkg", packages = {} } })`,
			`P:1: apply 'web': action 1 (pkg): pkg action requires at least one package`},
		{"pkg raw type", `apply("web", { { kind = "pkg", packages = "a" } })`,
			`P:1: apply 'web': action 1 (pkg): pkg action requires packages array`},
		{"symlink empty", `apply("web", { symlink("", "/a") })`,
			`P:1: apply 'web': action 1 (symlink): key 'target' must not be empty`},
		{"no documents", `local x = 1`,
			`P: dsl did not define cell(), volume(), or apply()`},
		{"mount only", `local m = volume("data", { target = "/srv" })`,
			`P: dsl did not define cell(), volume(), or apply()`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, got := loadOne(t, tc.src)
			want := strings.ReplaceAll(tc.want, "P", path)
			if !strings.HasPrefix(tc.want, "P: ") {
				want = "failed to load " + path + ": " + want
			}
			if got != want {
				t.Errorf("load error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}
