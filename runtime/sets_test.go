package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeSet builds a small tar.xz set with the given files.
func makeSet(t *testing.T, files map[string]string) []byte {
	t.Helper()
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("needs xz to build test sets")
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	cmd := exec.Command("xz", "-c")
	cmd.Stdin = &tb
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sumLine(name string, data []byte) string {
	s := sha512.Sum512(data)
	return fmt.Sprintf("SHA512 (%s) = %s\n", name, hex.EncodeToString(s[:]))
}

func TestFetchSetsVerifies(t *testing.T) {
	base := makeSet(t, map[string]string{"./bin/sh": "#!sh\n"})
	etc := makeSet(t, map[string]string{"./etc/rc.conf": "rc_configured=YES\n"})
	served := map[string][]byte{"base.tar.xz": base, "etc.tar.xz": etc}
	sums := sumLine("base.tar.xz", base) + sumLine("etc.tar.xz", etc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/sets/")
		if name == "SHA512" {
			fmt.Fprint(w, sums)
			return
		}
		if b, ok := served[name]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := FetchSets(context.Background(), srv.Client(), srv.URL+"/sets/", dir, SetNames(false), t.Logf); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "base.tar.xz"))
	if !bytes.Equal(got, base) {
		t.Fatal("base.tar.xz differs from what was served")
	}
	out := t.TempDir()
	if err := ExtractSet(filepath.Join(dir, "base.tar.xz"), out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "bin/sh")); string(b) != "#!sh\n" {
		t.Fatalf("extracted bin/sh = %q", b)
	}

	// A corrupted set is refused and never lands under its final name.
	served["etc.tar.xz"] = append([]byte{}, etc[:len(etc)/2]...)
	dir2 := t.TempDir()
	err := FetchSets(context.Background(), srv.Client(), srv.URL+"/sets", dir2, SetNames(false), t.Logf)
	if err == nil || !strings.Contains(err.Error(), "SHA512 mismatch") {
		t.Fatalf("corrupt set: err = %v, want SHA512 mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "etc.tar.xz")); !os.IsNotExist(err) {
		t.Fatal("a corrupt etc.tar.xz was left behind")
	}
	ents, _ := os.ReadDir(dir2)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".part") {
			t.Fatalf("partial download left behind: %s", e.Name())
		}
	}

	// A set without a checksum is refused.
	served["etc.tar.xz"] = etc
	err = FetchSets(context.Background(), srv.Client(), srv.URL+"/sets", t.TempDir(), SetNames(true), t.Logf)
	if err == nil || !strings.Contains(err.Error(), "no checksum for xbase.tar.xz") {
		t.Fatalf("xbase: err = %v", err)
	}
}

func TestParseSHA512Malformed(t *testing.T) {
	if _, err := ParseSHA512(strings.NewReader("SHA512 (base.tar.xz) = abc\n")); err == nil {
		t.Fatal("short digest accepted")
	}
}

func TestMajorMinor(t *testing.T) {
	for in, want := range map[string]string{"10.1": "10.1", "10.1_STABLE": "10.1", "11.0.": "11.0", "9.99.1": "9.99.1"} {
		if got := MajorMinor(in); got != want {
			t.Errorf("MajorMinor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestApplyWritableLinks(t *testing.T) {
	base := t.TempDir()
	os.MkdirAll(filepath.Join(base, "etc"), 0o755)
	os.WriteFile(filepath.Join(base, "etc/rc.conf"), nil, 0o644)
	if err := ApplyWritableLinks(base); err != nil {
		t.Fatal(err)
	}
	for _, l := range WritableLinks {
		if got, err := os.Readlink(filepath.Join(base, l[0])); err != nil || got != l[1] {
			t.Errorf("%s -> %q (%v), want %q", l[0], got, err, l[1])
		}
	}
}
