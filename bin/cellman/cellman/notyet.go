package cellman

import "fmt"

// The commands of later work. Each stub checks its usage and then fails
// through notImplemented; an engineer implementing a command deletes its
// stub here and defines the handler (same name) in its own file.

// notImplemented is the one failure of every command not written yet.
func notImplemented(command string) error {
	return fmt.Errorf("%s: not implemented yet", command)
}

// cmdRun runs an operator's Lua script (`run <script.lua> [args ...]`).
// Wired to runtime.RunScript once it exists.
func cmdRun(_ *cli, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: run <script.lua> [args ...]")
	}
	return notImplemented("run")
}
