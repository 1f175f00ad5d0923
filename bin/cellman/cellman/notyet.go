package cellman

import "fmt"

// The commands of later work. Each stub checks its usage and then fails
// through notImplemented; an engineer implementing a command deletes its
// stub here and defines the handler (same name) in its own file.

// notImplemented is the one failure of every command not written yet.
func notImplemented(command string) error {
	return fmt.Errorf("%s: not implemented yet", command)
}

func cmdCellRemove(_ *cli, args []string) error {
	if _, err := parseRemoveArgs("cell", args); err != nil {
		return err
	}
	return notImplemented("cell remove")
}

func cmdCellBackup(_ *cli, args []string) error {
	b, err := parseBackupArgs("cell", args)
	if err != nil {
		return err
	}
	return notImplemented("cell backup " + b.op)
}

func cmdVolumeCreate(_ *cli, args []string) error {
	if _, err := parseVolumeCreateArgs(args); err != nil {
		return err
	}
	return notImplemented("volume create")
}

func cmdVolumeRemove(_ *cli, args []string) error {
	if _, err := parseRemoveArgs("volume", args); err != nil {
		return err
	}
	return notImplemented("volume remove")
}

func cmdVolumeBackup(_ *cli, args []string) error {
	b, err := parseBackupArgs("volume", args)
	if err != nil {
		return err
	}
	return notImplemented("volume backup " + b.op)
}

func cmdSystemBootstrap(_ *cli, args []string) error {
	if _, err := parseBootstrapArgs(args); err != nil {
		return err
	}
	return notImplemented("system bootstrap")
}

func cmdSystemReset(_ *cli, args []string) error {
	if _, err := parseResetArgs(args); err != nil {
		return err
	}
	return notImplemented("system reset")
}

// cmdRun runs an operator's Lua script (`run <script.lua> [args ...]`).
// Wired to runtime.RunScript once it exists.
func cmdRun(_ *cli, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: run <script.lua> [args ...]")
	}
	return notImplemented("run")
}
