package runtime

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchConvergedCells declares n autostart cells (profile high, a
// supervised sleep, healthcheck `true`, 5 actions: dir, file, line,
// symlink, exec) in p and converges them with one apply.
func benchConvergedCells(b *testing.B, n int) ApplyOptions {
	p := rootPrefix(b)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench%02d", i)
		writeDSL(b, p, name+".lua", fmt.Sprintf(`cell(%q, {
  autostart = true,
  create = { profile = "high" },
  supervise = { cmd = "exec sleep 100000" },
  healthcheck = "true",
})
apply(%q, {
  dir("/srv/www", { mode = "0755" }),
  file("/srv/www/index.html", "hello {{ cell_name }}\n", { mode = "0644" }),
  line("/etc/hosts", "127.0.0.1 %s"),
  symlink("/srv/www", "/var/www"),
  exec("true"),
})
`, name, name, name))
	}
	var out, errb bytes.Buffer
	opts := ApplyOptions{Paths: p, Stdout: &out, Stderr: &errb, Columns: 120}
	if code, err := Apply(opts); code != 0 || err != nil {
		b.Fatalf("converging apply: %d %v\n%s%s", code, err, out.String(), errb.String())
	}
	opts.Stdout, opts.Stderr = io.Discard, io.Discard
	return opts
}

// BenchmarkConvergedApply50 is a no-op `cellman apply --all` over 50
// running cells with the real Linux driver (issue 5: <= 2 s): "apply" is
// the whole apply, "healthchecks" for scale the 50 healthchecks it runs
// (step 5 of every running autostart cell) one after the other through
// Lifecycle.Healthcheck (a kernel list each). Root only; every cell is
// stopped at the end.
func BenchmarkConvergedApply50(b *testing.B) {
	opts := benchConvergedCells(b, 50)
	b.Run("apply", func(b *testing.B) {
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			if code, err := Apply(opts); code != 0 || err != nil {
				b.Fatalf("no-op apply: %d %v", code, err)
			}
		}
	})
	st, err := LoadState(opts.Paths.DSLDir)
	if err != nil {
		b.Fatal(err)
	}
	lc := NewLifecycle(opts.Paths, st, nil)
	b.Run("healthchecks", func(b *testing.B) {
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			for _, c := range st.Cells {
				if err := lc.Healthcheck(c.Name); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
