package spec

// ValidName reports whether s is a valid cell, volume or apply name:
// non-empty, only A-Za-z0-9 and "._-", and not "." or ".." (names become
// path components under the runtime directories).
func ValidName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
