package cellctl

import (
	"fmt"
	"strconv"
	"strings"

	"cells/kernel"
)

// create implements `cellctl create`: getopt n:l:r:N:A:C:, one root operand.
func (c *cmd) create(args []string) error {
	var spec kernel.CreateSpec
	nameSet := false
	seen := map[uint16]bool{}
	g := newGetopt(args, "n:l:r:N:A:C:")
	for {
		opt, arg, ok, err := g.next()
		if !ok {
			break
		}
		if err != nil {
			return c.usageErr(err)
		}
		switch opt {
		case 'n':
			if len(arg) > kernel.NameMax {
				return fmt.Errorf("name too long")
			}
			spec.Name, nameSet = arg, true
		case 'l':
			p, err := kernel.ParseProfile(arg)
			if err != nil {
				return fmt.Errorf("invalid profile '%s' (expected low|medium|high)", arg)
			}
			spec.Profile, spec.ProfileSet = p, true
		case 'r':
			for _, tok := range strings.Split(arg, ",") {
				p, err := strconv.ParseUint(tok, 10, 16)
				if err != nil || p == 0 || !isDecimal(tok) {
					return fmt.Errorf("invalid reserved port: %s", tok)
				}
				if seen[uint16(p)] {
					return fmt.Errorf("duplicate reserved port: %d", p)
				}
				if len(spec.Ports) == kernel.PortsMax {
					return fmt.Errorf("too many reserved ports (max %d)", kernel.PortsMax)
				}
				seen[uint16(p)] = true
				spec.Ports = append(spec.Ports, uint16(p))
			}
		case 'N', 'A', 'C':
			what := map[byte]string{'N': "nofile", 'A': "as", 'C': "core"}[opt]
			r, err := parseRlimit(arg)
			if err != nil {
				return fmt.Errorf("invalid rlimit %s: %s", what, arg)
			}
			switch opt {
			case 'N':
				spec.Rlimits.Nofile = r
			case 'A':
				spec.Rlimits.AS = r
			case 'C':
				spec.Rlimits.Core = r
			}
		}
	}
	rest := g.rest()
	if !nameSet || len(rest) != 1 {
		return errUsage
	}
	// As upstream, line breaks and tabs in the name become spaces: the name
	// is refused either way, and the message stays on one line.
	spec.Name = blankControls(spec.Name)
	if !kernel.ValidName(spec.Name) {
		return fmt.Errorf("invalid cell name '%s' (allowed: A-Za-z0-9._-)", spec.Name)
	}
	// Upstream also turns them into spaces in the root, which can then name
	// another, existing directory: a root with any control character is
	// refused instead, as the kernel refuses the other control characters.
	spec.Root = rest[0]
	if hasControl(spec.Root) {
		return fmt.Errorf("invalid root %q (control characters are not allowed)", spec.Root)
	}
	if len(spec.Root) > kernel.RootMax {
		return fmt.Errorf("root too long")
	}
	return c.withDriver(func(d kernel.Driver) error {
		cells, err := listCells(d)
		if err != nil {
			return err
		}
		for _, cell := range cells {
			if cell.Name == spec.Name {
				return fmt.Errorf("name already exists: %s", spec.Name)
			}
		}
		id, err := d.Create(spec)
		if err != nil {
			return fmt.Errorf("create cell %s: %s", spec.Name, Strerror(err))
		}
		fmt.Fprintf(c.stdout, "cell %d\n", id)
		return nil
	})
}

// parseRlimit parses a decimal limit or "unlimited".
func parseRlimit(s string) (kernel.Rlimit, error) {
	if s == "unlimited" {
		return kernel.Rlimit{Set: true, Value: kernel.RlimitInfinity}, nil
	}
	if !isDecimal(s) {
		return kernel.Rlimit{}, fmt.Errorf("not a decimal")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return kernel.Rlimit{}, err
	}
	return kernel.Rlimit{Set: true, Value: v}, nil
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hasControl reports whether s has a byte below 0x20 or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// blankControls replaces LF, CR and TAB with spaces.
func blankControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
