package cellman

import (
	"errors"
	"fmt"
)

// handler runs one command with the arguments after its words.
type handler func(c *cli, args []string) error

// topLevel are the commands that are not in a group.
var topLevel = map[string]handler{
	"apply": cmdApply,
	"run":   cmdRun,
}

// aliases are rewritten to `cell <word> ...`.
var aliases = map[string]bool{"list": true, "start": true, "stop": true, "restart": true, "shell": true}

// groups maps each group's subcommands to their handlers, each defined in
// the file of its command.
var groups = map[string]map[string]handler{
	"cell": {
		"list":    cmdCellList,
		"show":    cmdCellShow,
		"fields":  cmdCellFields,
		"start":   cmdCellStart,
		"stop":    cmdCellStop,
		"restart": cmdCellRestart,
		"shell":   cmdCellShell,
		"remove":  cmdCellRemove,
		"backup":  cmdCellBackup,
		"plan":    cmdCellPlan,
		"create":  refuseCellMutation,
		"set":     refuseCellMutation,
		"edit":    refuseCellMutation,
	},
	"volume": {
		"list":   cmdVolumeList,
		"show":   cmdVolumeShow,
		"fields": cmdVolumeFields,
		"create": cmdVolumeCreate,
		"remove": cmdVolumeRemove,
		"backup": cmdVolumeBackup,
		"set":    refuseVolumeMutation,
		"edit":   refuseVolumeMutation,
	},
	"system": {
		"bootstrap": cmdSystemBootstrap,
		"reset":     cmdSystemReset,
	},
}

// dispatch routes args (without the program name) as upstream's
// cmd_dispatch and command_route do.
func (c *cli) dispatch(args []string) error {
	if len(args) == 0 {
		return errors.New("missing command arguments")
	}
	word := args[0]
	if aliases[word] {
		args = append([]string{"cell"}, args...)
		word = "cell"
	}
	if h, ok := topLevel[word]; ok {
		return h(c, args[1:])
	}
	subs, ok := groups[word]
	if !ok {
		return fmt.Errorf("unsupported command: %s", word)
	}
	if len(args) < 2 {
		return fmt.Errorf("usage: %s <subcommand> ...", word)
	}
	h, ok := subs[args[1]]
	if !ok {
		return fmt.Errorf("unsupported %s subcommand: %s", word, args[1])
	}
	return h(c, args[2:])
}

// The desired state is the DSL files; cellman never rewrites them.
func refuseCellMutation(*cli, []string) error {
	return errors.New("cell desired-state mutations are not supported; edit /etc/cellman/*.lua")
}

func refuseVolumeMutation(*cli, []string) error {
	return errors.New("volume desired-state mutations are not supported; edit /etc/cellman/*.lua")
}
