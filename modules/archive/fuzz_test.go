package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtract feeds arbitrary tar streams (gzipped here) to Check and
// Extract: nothing may appear outside the staging directory, and an
// archive Check accepts must extract.
func FuzzExtract(f *testing.F) {
	seed := func(hdrs ...tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			if h.Typeflag == tar.TypeReg {
				h.Size = 1
			}
			tw.WriteHeader(&h)
			if h.Typeflag == tar.TypeReg {
				tw.Write([]byte("x"))
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	f.Add(seed(tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755}, tar.Header{Typeflag: tar.TypeReg, Name: "./a/b", Mode: 0o644}))
	f.Add(seed(tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "../x"}, tar.Header{Typeflag: tar.TypeReg, Name: "l/f"}))
	f.Add(seed(tar.Header{Typeflag: tar.TypeReg, Name: "f"}, tar.Header{Typeflag: tar.TypeLink, Name: "g", Linkname: "f"}))
	f.Add(seed(tar.Header{Typeflag: tar.TypeSymlink, Name: "d/l", Linkname: "."}, tar.Header{Typeflag: tar.TypeSymlink, Name: "d/m", Linkname: "l/../.."}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		base := t.TempDir()
		staging := filepath.Join(base, "staging")
		os.Mkdir(staging, 0o700)
		o := Options{MaxBytes: 1 << 20, AbsoluteLinks: true}
		_, cerr := Check(bytes.NewReader(gz.Bytes()), o)
		_, xerr := Extract(bytes.NewReader(gz.Bytes()), staging, o)
		if cerr == nil && xerr != nil {
			t.Fatalf("Check accepted what Extract refused: %v", xerr)
		}
		if xerr == nil && cerr != nil {
			t.Fatalf("Extract accepted what Check refused: %v", cerr)
		}
		ents, _ := os.ReadDir(base)
		if len(ents) != 1 {
			t.Fatalf("written next to the staging dir: %v", ents)
		}
		os.RemoveAll(staging)
	})
}
