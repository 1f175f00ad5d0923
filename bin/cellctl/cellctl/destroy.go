package cellctl

import (
	"fmt"

	"cells/kernel"
)

// destroy implements `cellctl destroy <cell-id|name>`.
func (c *cmd) destroy(args []string) error {
	g := newGetopt(args, "")
	for {
		_, _, ok, err := g.next()
		if !ok {
			break
		}
		if err != nil {
			return c.usageErr(err)
		}
	}
	rest := g.rest()
	if len(rest) != 1 {
		return errUsage
	}
	return c.withDriver(func(d kernel.Driver) error {
		cell, err := lookup(d, rest[0])
		if err != nil {
			return err
		}
		if err := d.Destroy(cell.ID); err != nil {
			return fmt.Errorf("destroy cell %d: %s", cell.ID, Strerror(err))
		}
		return nil
	})
}
