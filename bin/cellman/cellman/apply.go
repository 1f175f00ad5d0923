package cellman

import (
	"cells/runtime"
)

// cmdApply runs `apply [--all|<name>...] [--dry-run] [-J] [--force]
// [--restart-changed] [--silent|-v|-vv]` (reference §4, cellman(8) APPLY).
// -J prints the dry-run plan as JSON instead of the report.
func cmdApply(c *cli, args []string) error {
	var rest []string
	jsonOut := false
	for _, a := range args {
		if a == "-J" {
			jsonOut = true
			continue
		}
		rest = append(rest, a)
	}
	a, err := parseApplyArgs(rest)
	if err != nil {
		return err
	}
	opts := runtime.ApplyOptions{
		Paths:          c.paths,
		DryRun:         a.dryRun,
		Force:          a.force,
		RestartChanged: a.restartChanged,
		Silent:         a.silent,
		Verbose:        a.verbose,
		JSON:           jsonOut,
		Stdout:         c.stdout,
		Stderr:         c.stderr,
	}
	if !a.all {
		opts.Targets = a.targets
	}
	code, err := runtime.Apply(opts)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// cmdCellPlan runs `cell plan run <name> [--file f.lua] [--ephemeral]`
// (reference §2.4).
func cmdCellPlan(c *cli, args []string) error {
	p, err := parsePlanArgs(args)
	if err != nil {
		return err
	}
	return runtime.PlanRun(runtime.PlanRunOptions{
		Paths:     c.paths,
		Name:      p.name,
		File:      p.file,
		Ephemeral: p.ephemeral,
		Stdout:    c.stdout,
		Stderr:    c.stderr,
	})
}
