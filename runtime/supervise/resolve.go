package supervise

import (
	"fmt"
	"strconv"

	"cells/kernel"
)

// parseCellID parses s as strtoul(3) with base 0 would, requiring the whole
// string to be consumed: 0x/0X hexadecimal, leading 0 octal, else decimal,
// at most 2^32-1.
func parseCellID(s string) (uint32, bool) {
	base, digits := 10, s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	for i := 0; i < len(digits); i++ {
		if !isDigit(digits[i], base) {
			return 0, false
		}
	}
	if digits == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

func isDigit(c byte, base int) bool {
	switch {
	case c >= '0' && c <= '7':
		return true
	case c == '8' || c == '9':
		return base >= 10
	case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		return base == 16
	}
	return false
}

// resolveCell finds the target among the driver's active cells: a number is
// an id, anything else must be a valid name looked up exactly.
func resolveCell(d kernel.Driver, target string) (kernel.Cell, error) {
	id, isID := parseCellID(target)
	if !isID && !kernel.ValidName(target) {
		return kernel.Cell{}, fmt.Errorf("invalid cell name '%s' (allowed: A-Za-z0-9._-)", target)
	}
	cells, err := d.List()
	if err != nil {
		return kernel.Cell{}, fmt.Errorf("list cells: %w", err)
	}
	for _, c := range cells {
		if (isID && c.ID == id) || (!isID && c.Name == target) {
			return c, nil
		}
	}
	if isID {
		return kernel.Cell{}, fmt.Errorf("cell %d not found", id)
	}
	return kernel.Cell{}, fmt.Errorf("cell '%s' not found", target)
}
