package runtime

import (
	"bufio"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DefaultMirror is the NetBSD CDN sets URL for a release and arch.
func DefaultMirror(release, arch string) string {
	return fmt.Sprintf("https://cdn.netbsd.org/pub/NetBSD/NetBSD-%s/%s/binary/sets", release, arch)
}

// SetNames are the sets bootstrap installs: base and etc, plus xbase.
func SetNames(xbase bool) []string {
	s := []string{"base.tar.xz", "etc.tar.xz"}
	if xbase {
		s = append(s, "xbase.tar.xz")
	}
	return s
}

// ParseSHA512 parses a release's SHA512 file: lines of the form
// "SHA512 (base.tar.xz) = <128 hex digits>".
func ParseSHA512(r io.Reader) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "SHA512 (")
		name, sum, ok2 := strings.Cut(rest, ") = ")
		if !ok || !ok2 || len(sum) != 128 {
			return nil, fmt.Errorf("SHA512: line %d: malformed: %q", n, line)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("SHA512: line %d: malformed digest", n)
		}
		sums[name] = strings.ToLower(sum)
	}
	return sums, sc.Err()
}

// FetchSets downloads the named sets from mirror into dir, each verified
// against the release's SHA512 file before it replaces any earlier copy: a
// bad or truncated download never lands under its final name.
func FetchSets(ctx context.Context, client *http.Client, mirror, dir string, sets []string, logf func(string, ...any)) error {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Minute}
	}
	mirror = strings.TrimRight(mirror, "/")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	body, err := httpGet(ctx, client, mirror+"/SHA512")
	if err != nil {
		return err
	}
	sums, err := ParseSHA512(body)
	body.Close()
	if err != nil {
		return fmt.Errorf("%s/SHA512: %w", mirror, err)
	}
	for _, set := range sets {
		want, ok := sums[set]
		if !ok {
			return fmt.Errorf("%s/SHA512: no checksum for %s", mirror, set)
		}
		logf("bootstrap fetch %s/%s", mirror, set)
		if err := fetchVerified(ctx, client, mirror+"/"+set, filepath.Join(dir, set), want); err != nil {
			return err
		}
	}
	return nil
}

func httpGet(ctx context.Context, client *http.Client, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	return resp.Body, nil
}

func fetchVerified(ctx context.Context, client *http.Client, url, dst, want string) error {
	body, err := httpGet(ctx, client, url)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part*")
	if err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	defer os.Remove(f.Name())
	h := sha512.New()
	if _, err := io.Copy(io.MultiWriter(f, h), body); err != nil {
		f.Close()
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("fetch %s: SHA512 mismatch (got %s, want %s)", url, got, want)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	return nil
}

// ExtractSet unpacks a set into dir with the system tar, keeping
// permissions (-p); both NetBSD tar and GNU tar detect xz by itself.
func ExtractSet(set, dir string) error {
	if _, err := os.Stat(set); err != nil {
		return fmt.Errorf("missing %s", set)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	out, err := exec.Command("tar", "-xpf", set, "-C", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("extract %s: %v: %s", set, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// WritableLinks are the base entries replaced by links into the cell's
// overlay (reference 6.1): name -> link target.
var WritableLinks = [][2]string{
	{"etc", ".overlay/etc"}, {"var", ".overlay/var"}, {"tmp", ".overlay/tmp"},
	{"home", ".overlay/home"}, {"root", ".overlay/root"}, {"opt", ".overlay/opt"},
	{".cshrc", ".overlay/.cshrc"}, {".profile", ".overlay/.profile"},
	{"usr/pkg", "../.overlay/usr/pkg"},
}

// ApplyWritableLinks (re)creates the overlay links in a NetBSD base layer.
func ApplyWritableLinks(base string) error {
	for _, l := range WritableLinks {
		p := filepath.Join(base, l[0])
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("base: %s: %w", p, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("base: %w", err)
		}
		if err := os.Symlink(l[1], p); err != nil {
			return fmt.Errorf("base: %s: %w", p, err)
		}
	}
	return nil
}
