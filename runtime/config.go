package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Config is the parsed /etc/cellman.conf (reference §9.2): KEY=VALUE lines,
// the first line of a key winning. Environment variables of the same name
// take precedence over the file (see Get).
type Config struct {
	Path   string            // the file it was read from
	values map[string]string // first value of each key in the file
}

// LoadConfig reads the configuration file at path. A missing file is not an
// error: every key is then unset. Lines are trimmed; blank lines and lines
// starting with '#' are skipped; a line is split at its first '='; the key
// must look like an environment variable name; a value starting with a
// single or double quote runs to the next same quote, otherwise anything
// from '#' on is a comment and the rest is trimmed.
func LoadConfig(path string) (Config, error) {
	c := Config{Path: path, values: map[string]string{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		key, value, ok, err := parseConfigLine(sc.Text())
		if err != nil {
			return c, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if !ok {
			continue
		}
		if _, seen := c.values[key]; !seen {
			c.values[key] = value
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("config: %s: %w", path, err)
	}
	return c, nil
}

// parseConfigLine parses one line; ok is false for blank and comment lines.
func parseConfigLine(line string) (key, value string, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false, nil
	}
	key, value, found := strings.Cut(line, "=")
	key = strings.TrimSpace(key)
	if !found {
		return "", "", false, fmt.Errorf("invalid config line: %s (expected KEY=VALUE)", line)
	}
	if !configKeyValid(key) {
		return "", "", false, fmt.Errorf("invalid config key: %s", key)
	}
	value = strings.TrimSpace(value)
	if value != "" && (value[0] == '"' || value[0] == '\'') {
		q := value[0]
		value = value[1:]
		if i := strings.IndexByte(value, q); i >= 0 {
			value = value[:i]
		}
		return key, value, true, nil
	}
	if i := strings.IndexByte(value, '#'); i >= 0 {
		value = strings.TrimSpace(value[:i])
	}
	return key, value, true, nil
}

// configKeyValid reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func configKeyValid(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Lookup returns the value of key: the environment variable of that name
// when it is set and non-empty, else the file's value. ok is false when
// neither sets it.
func (c Config) Lookup(key string) (value string, ok bool) {
	if v := os.Getenv(key); v != "" {
		return v, true
	}
	v, ok := c.values[key]
	return v, ok
}

// Get returns the value of key (environment first, then the file), or "".
func (c Config) Get(key string) string {
	v, _ := c.Lookup(key)
	return v
}

// File returns the value of key as written in the file, ignoring the
// environment.
func (c Config) File(key string) (string, bool) {
	v, ok := c.values[key]
	return v, ok
}
