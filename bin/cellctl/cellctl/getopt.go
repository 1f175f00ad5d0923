package cellctl

import "fmt"

// getopt is a POSIX getopt(3) over args (args[0] is the command word, as
// argv[0] for the C function): options come before the operands, flags
// combine (-TH), an option argument is attached (-nweb) or the next word
// (-n web), "--" ends the options and a lone "-" is an operand. Errors use
// NetBSD getopt's wording.
type getopt struct {
	args   []string
	spec   string
	optind int // index of the next word to scan
	pos    int // position inside a combined word, 0 between words
}

func newGetopt(args []string, spec string) *getopt {
	return &getopt{args: args, spec: spec, optind: 1}
}

// next returns the next option and its argument; ok is false at the end of
// the options. err names an unknown option or a missing argument.
func (g *getopt) next() (opt byte, arg string, ok bool, err error) {
	if g.pos == 0 {
		if g.optind >= len(g.args) {
			return 0, "", false, nil
		}
		w := g.args[g.optind]
		if w == "--" {
			g.optind++
			return 0, "", false, nil
		}
		if len(w) < 2 || w[0] != '-' {
			return 0, "", false, nil
		}
		g.pos = 1
	}
	w := g.args[g.optind]
	opt = w[g.pos]
	g.pos++
	i := -1
	for j := 0; j < len(g.spec); j++ {
		if g.spec[j] == opt && opt != ':' {
			i = j
			break
		}
	}
	if i < 0 {
		g.advanceIfDone(w)
		return opt, "", true, fmt.Errorf("unknown option -- %c", opt)
	}
	if i+1 < len(g.spec) && g.spec[i+1] == ':' {
		if g.pos < len(w) {
			arg = w[g.pos:]
			g.optind++
			g.pos = 0
			return opt, arg, true, nil
		}
		g.optind++
		g.pos = 0
		if g.optind >= len(g.args) {
			return opt, "", true, fmt.Errorf("option requires an argument -- %c", opt)
		}
		arg = g.args[g.optind]
		g.optind++
		return opt, arg, true, nil
	}
	g.advanceIfDone(w)
	return opt, "", true, nil
}

func (g *getopt) advanceIfDone(w string) {
	if g.pos >= len(w) {
		g.optind++
		g.pos = 0
	}
}

// rest returns the operands after the options.
func (g *getopt) rest() []string { return g.args[g.optind:] }

// switches parses args whose options are all flags without arguments (spec
// has no ':'), reporting a getopt error the NetBSD way, and returns which
// options were given and the operands. -J, wherever it is allowed, sets
// c.json.
func (c *cmd) switches(args []string, spec string) (map[byte]bool, []string, error) {
	set := map[byte]bool{}
	g := newGetopt(args, spec)
	for {
		opt, _, ok, err := g.next()
		if !ok {
			break
		}
		if err != nil {
			return nil, nil, c.usageErr(err)
		}
		set[opt] = true
	}
	if set['J'] {
		c.json = true
	}
	return set, g.rest(), nil
}
