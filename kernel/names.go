package kernel

// ValidName reports whether s is a valid cell name: non-empty, at most
// NameMax bytes of [A-Za-z0-9._-].
func ValidName(s string) bool {
	if s == "" || len(s) > NameMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
