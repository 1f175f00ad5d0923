package cellctl

import (
	"fmt"

	"cells/kernel"
)

// parseID parses s as strtoul(3) with base 0 would for a whole word: decimal,
// 0x hexadecimal or 0 octal, at most 2^32-1. ok is false for anything else,
// which is then taken as a name.
func parseID(s string) (id uint32, ok bool) {
	base, digits := uint64(10), s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		var d uint64
		switch c := digits[i]; {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(v), true
}

// resolve finds the cell a <cell-id|name> argument names: a number is an id,
// anything else must be a valid name, looked up exactly.
func resolve(cells []kernel.Cell, arg string) (kernel.Cell, error) {
	if id, ok := parseID(arg); ok {
		for _, c := range cells {
			if c.ID == id {
				return c, nil
			}
		}
		return kernel.Cell{}, fmt.Errorf("cell %d not found", id)
	}
	if !kernel.ValidName(arg) {
		return kernel.Cell{}, fmt.Errorf("invalid cell name '%s' (allowed: A-Za-z0-9._-)", arg)
	}
	for _, c := range cells {
		if c.Name == arg {
			return c, nil
		}
	}
	return kernel.Cell{}, fmt.Errorf("cell '%s' not found", arg)
}

// lookup lists the cells and resolves arg; a driver that can name its
// cells without gathering their counters does so (kernel.Directory).
func lookup(d kernel.Driver, arg string) (kernel.Cell, error) {
	if dir, ok := d.(kernel.Directory); ok {
		if cells, err := dir.Cells(); err == nil {
			return resolve(cells, arg)
		}
	}
	cells, err := listCells(d)
	if err != nil {
		return kernel.Cell{}, err
	}
	return resolve(cells, arg)
}
