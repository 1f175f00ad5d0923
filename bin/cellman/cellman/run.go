package cellman

import (
	"errors"

	"cells/runtime"
)

// cmdRun runs an operator's Lua script: `run <script.lua> [args ...]`.
// runtime.RunScript prints the script's output and its errors; cellman only
// passes the exit status on.
func cmdRun(c *cli, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: run <script.lua> [args ...]")
	}
	if code := runtime.RunScript(args[0], args[1:], c.stdout, c.stderr); code != 0 {
		return &exitError{code: code}
	}
	return nil
}
