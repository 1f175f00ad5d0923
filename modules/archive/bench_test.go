package archive

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchTree writes a 100 MiB tree: 50 files of 1 MiB random bytes and 50
// of 1 MiB repetitive text (logs, configs), in 10 directories.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "tree")
	noise := make([]byte, 1<<20)
	text := []byte(strings.Repeat("2026-11-27T05:00:00Z cell=web level=info msg=\"request served\" status=200\n", (1<<20)/40)[:1<<20])
	var total int64
	for i := 0; i < 100; i++ {
		d := filepath.Join(dir, fmt.Sprintf("d%d", i%10))
		os.MkdirAll(d, 0o755)
		data := text
		if i%2 == 0 {
			rand.Read(noise)
			data = noise
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%03d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	return dir, total
}

// BenchmarkCreate100MB archives the tree into a file (throughput in MB/s
// of file data) at gzip's fastest and default levels.
func BenchmarkCreate100MB(b *testing.B) {
	dir, total := benchTree(b)
	for _, level := range []int{gzip.BestSpeed, gzip.DefaultCompression} {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			b.SetBytes(total)
			out := filepath.Join(b.TempDir(), "a.tar.gz")
			for i := 0; i < b.N; i++ {
				f, err := os.Create(out)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Create(f, dir, CreateOptions{Level: level}); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			fi, _ := os.Stat(out)
			b.ReportMetric(float64(fi.Size())/float64(total), "ratio")
		})
	}
}

// BenchmarkExtract100MB validates and extracts the tree's archive into a
// fresh staging directory.
func BenchmarkExtract100MB(b *testing.B) {
	dir, total := benchTree(b)
	var buf bytes.Buffer
	if _, err := Create(&buf, dir, CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := filepath.Join(b.TempDir(), "staging")
		os.Mkdir(dst, 0o700)
		b.StartTimer()
		if _, err := Extract(bytes.NewReader(data), dst, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck100MB validates the archive without writing.
func BenchmarkCheck100MB(b *testing.B) {
	dir, total := benchTree(b)
	var buf bytes.Buffer
	if _, err := Create(&buf, dir, CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Check(bytes.NewReader(buf.Bytes()), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
