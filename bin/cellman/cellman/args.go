package cellman

import (
	"errors"
	"fmt"
	"strings"
)

// Argument parsers of the commands that change the runtime (reference
// §2.4-§2.7, §4.1, §5.2). They check usage only; each command's handler
// decides the rest (names, root, --yes).

// applyArgs are the options of `apply`.
type applyArgs struct {
	all            bool
	targets        []string
	dryRun         bool
	force          bool
	restartChanged bool
	silent         bool
	verbose        int // 0..2
}

func parseApplyArgs(args []string) (applyArgs, error) {
	var a applyArgs
	for _, arg := range args {
		switch arg {
		case "--all":
			a.all = true
		case "--dry-run":
			a.dryRun = true
		case "--force":
			a.force = true
		case "--restart-changed":
			a.restartChanged = true
		case "--silent":
			a.silent = true
		case "-v", "--verbose":
			a.verbose = min(a.verbose+1, 2)
		case "-vv":
			a.verbose = 2
		default:
			if strings.HasPrefix(arg, "-") {
				return a, fmt.Errorf("unknown apply option: %s", arg)
			}
			a.targets = append(a.targets, arg)
		}
	}
	if a.silent && a.verbose > 0 {
		return a, errors.New("--silent and --verbose are mutually exclusive")
	}
	if a.all && len(a.targets) > 0 {
		return a, errors.New("cannot combine --all with explicit apply targets")
	}
	if len(a.targets) == 0 {
		a.all = true
	}
	return a, nil
}

// lifecycleArgs are the arguments of `cell start|stop|restart`: exactly one
// of a name or --all.
type lifecycleArgs struct {
	name string
	all  bool
}

func parseLifecycleArgs(op string, args []string) (lifecycleArgs, error) {
	usage := fmt.Errorf("usage: cell %s <name>|--all", op)
	if len(args) != 1 {
		return lifecycleArgs{}, usage
	}
	if args[0] == "--all" {
		return lifecycleArgs{all: true}, nil
	}
	if strings.HasPrefix(args[0], "-") {
		return lifecycleArgs{}, usage
	}
	return lifecycleArgs{name: args[0]}, nil
}

// shellArgs are the arguments of `cell shell <name> [command ...]`.
type shellArgs struct {
	name string
	argv []string // empty: the cell's login shell
}

func parseShellArgs(args []string) (shellArgs, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return shellArgs{}, errors.New("usage: cell shell <name> [command ...]")
	}
	return shellArgs{name: args[0], argv: args[1:]}, nil
}

// removeArgs are the arguments of `cell remove` and `volume remove`:
// exactly one of a name, --all or --orphans.
type removeArgs struct {
	name    string
	all     bool
	orphans bool
	yes     bool
	force   bool // cell only
}

func parseRemoveArgs(kind string, args []string) (removeArgs, error) {
	var r removeArgs
	usage := errors.New("usage: volume remove <name|--all|--orphans> [--yes]")
	if kind == "cell" {
		usage = errors.New("usage: cell remove <name|--all|--orphans> [--yes] [--force]")
	}
	targets := 0
	for _, a := range args {
		switch {
		case a == "--all":
			r.all = true
			targets++
		case a == "--orphans":
			r.orphans = true
			targets++
		case a == "--yes":
			r.yes = true
		case a == "--force" && kind == "cell":
			r.force = true
		case strings.HasPrefix(a, "-"):
			return r, usage
		default:
			r.name = a
			targets++
		}
	}
	if targets != 1 {
		return r, usage
	}
	return r, nil
}

// backupArgs are the arguments of `cell|volume backup <op> ...`.
type backupArgs struct {
	op       string // create|list|restore|delete
	name     string
	archive  string // --from or a bare positional
	latest   bool
	yes      bool
	tsv      bool
	noHeader bool
	json     bool // -J, excludes -T and -H
}

func parseBackupArgs(kind string, args []string) (backupArgs, error) {
	var b backupArgs
	if len(args) == 0 {
		return b, fmt.Errorf("usage: %s backup <create|list|restore|delete> ...", kind)
	}
	b.op = args[0]
	args = args[1:]
	switch b.op {
	case "create":
		if len(args) != 1 || strings.HasPrefix(args[0], "-") {
			return b, fmt.Errorf("usage: %s backup create <name>", kind)
		}
		b.name = args[0]
	case "list":
		usage := fmt.Errorf("usage: %s backup list <name> [-T] [-H]", kind)
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return b, usage
		}
		b.name = args[0]
		for _, a := range args[1:] {
			switch a {
			case "-T":
				b.tsv = true
			case "-H":
				b.noHeader = true
			case "-J":
				b.json = true
			default:
				return b, usage
			}
		}
		if b.noHeader && !b.tsv {
			return b, errors.New("-H requires -T")
		}
		if b.json && b.tsv {
			return b, usage
		}
	case "restore", "delete":
		usage := fmt.Errorf("usage: %s backup %s <name> [--from archive|--latest] [--yes]", kind, b.op)
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return b, usage
		}
		b.name = args[0]
		for i := 1; i < len(args); i++ {
			switch a := args[i]; {
			case a == "--from":
				if i+1 >= len(args) || b.archive != "" {
					return b, usage
				}
				i++
				b.archive = args[i]
			case a == "--latest":
				b.latest = true
			case a == "--yes":
				b.yes = true
			case strings.HasPrefix(a, "-") || b.archive != "":
				return b, usage
			default:
				b.archive = a
			}
		}
		if b.latest && b.archive != "" {
			return b, fmt.Errorf("%s backup %s: --latest cannot be combined with explicit archive path", kind, b.op)
		}
	default:
		return b, fmt.Errorf("unknown %s backup command: %s", kind, b.op)
	}
	return b, nil
}

// planArgs are the arguments of `cell plan run <name> [--file f] [--ephemeral]`.
type planArgs struct {
	name      string
	file      string
	ephemeral bool
}

func parsePlanArgs(args []string) (planArgs, error) {
	var p planArgs
	usage := errors.New("usage: cell plan run <name> [--file file.lua] [--ephemeral]")
	if len(args) < 2 || args[0] != "run" || strings.HasPrefix(args[1], "-") {
		return p, usage
	}
	p.name = args[1]
	for i := 2; i < len(args); i++ {
		switch args[i] {
		case "--file":
			if i+1 >= len(args) {
				return p, usage
			}
			i++
			p.file = args[i]
		case "--ephemeral":
			p.ephemeral = true
		default:
			return p, usage
		}
	}
	return p, nil
}

// volumeCreateArgs are the arguments of `volume create <name> [-m mode]`.
type volumeCreateArgs struct {
	name string
	mode string
}

func parseVolumeCreateArgs(args []string) (volumeCreateArgs, error) {
	var v volumeCreateArgs
	usage := errors.New("usage: volume create <name> [-m mode]")
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-m" || a == "--mode":
			if i+1 >= len(args) {
				return v, usage
			}
			i++
			v.mode = args[i]
		case strings.HasPrefix(a, "-") || v.name != "":
			return v, usage
		default:
			v.name = a
		}
	}
	if v.name == "" {
		return v, usage
	}
	return v, nil
}

// bootstrapArgs are the arguments of `system bootstrap [--xbase]`.
type bootstrapArgs struct{ xbase bool }

func parseBootstrapArgs(args []string) (bootstrapArgs, error) {
	var b bootstrapArgs
	for _, a := range args {
		if a != "-x" && a != "--xbase" {
			return b, errors.New("usage: system bootstrap [--xbase]")
		}
		b.xbase = true
	}
	return b, nil
}

// resetArgs are the arguments of `system reset [--cells] [--volumes] [--yes]`;
// neither selector selects both.
type resetArgs struct{ cells, volumes, yes bool }

func parseResetArgs(args []string) (resetArgs, error) {
	var r resetArgs
	for _, a := range args {
		switch a {
		case "--cells":
			r.cells = true
		case "--volumes":
			r.volumes = true
		case "--yes":
			r.yes = true
		default:
			return r, errors.New("usage: system reset [--cells] [--volumes] [--yes]")
		}
	}
	if !r.cells && !r.volumes {
		r.cells, r.volumes = true, true
	}
	return r, nil
}
