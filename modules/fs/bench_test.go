package fs

import (
	"os"
	"path/filepath"
	"testing"
)

// benchResolvers runs b's body with the kernel resolver and the walk.
func benchResolvers(b *testing.B, f func(b *testing.B, r *Root)) {
	for _, walkOnly := range []bool{false, true} {
		name := "native"
		if walkOnly {
			name = "walk"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			os.MkdirAll(filepath.Join(dir, "a/b/c/d/e"), 0o755)
			r, err := OpenRoot(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			old := forceWalk
			forceWalk = walkOnly
			defer func() { forceWalk = old }()
			f(b, r)
		})
	}
}

// BenchmarkWriteFileUnchanged is the cost of a converged file action.
func BenchmarkWriteFileUnchanged(b *testing.B) {
	benchResolvers(b, func(b *testing.B, r *Root) {
		data := make([]byte, 4096)
		r.WriteFile("/a/b/c/d/e/f", data, 0o644)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := r.WriteFile("/a/b/c/d/e/f", data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWriteFileChanged is an atomic replace (temp, fsync, rename).
func BenchmarkWriteFileChanged(b *testing.B) {
	benchResolvers(b, func(b *testing.B, r *Root) {
		data := [][]byte{make([]byte, 4096), append(make([]byte, 4095), 1)}
		for i := 0; i < b.N; i++ {
			if _, err := r.WriteFile("/a/b/c/d/e/f", data[i%2], 0o644); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStatDeep resolves a 6-component path.
func BenchmarkStatDeep(b *testing.B) {
	benchResolvers(b, func(b *testing.B, r *Root) {
		for i := 0; i < b.N; i++ {
			if _, err := r.Stat("/a/b/c/d/e"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
