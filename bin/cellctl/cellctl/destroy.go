package cellctl

import (
	"fmt"

	"cells/kernel"
)

// destroy implements `cellctl destroy <cell-id|name>`.
func (c *cmd) destroy(args []string) error {
	// No options: a name may start with a dash.
	if len(args) != 2 {
		return errUsage
	}
	target := args[1]
	return c.withDriver(func(d kernel.Driver) error {
		cell, err := lookup(d, target)
		if err != nil {
			return err
		}
		if err := d.Destroy(cell.ID); err != nil {
			return fmt.Errorf("destroy cell %d: %s", cell.ID, Strerror(err))
		}
		return nil
	})
}
