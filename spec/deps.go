package spec

import "fmt"

// DependencyOrder returns every declared cell with its dependencies before
// it: a depth-first search over the cells in load order, emitting in
// post-order (as upstream). Errors: "dependency cycle detected at cell <n>"
// and "cell <n> depends on missing cell <d>".
func (s *State) DependencyOrder() ([]*Cell, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	byName := make(map[string]*Cell, len(s.Cells))
	for _, c := range s.Cells {
		if _, ok := byName[c.Name]; !ok {
			byName[c.Name] = c
		}
	}
	state := make(map[string]int, len(s.Cells))
	order := make([]*Cell, 0, len(s.Cells))
	var visit func(c *Cell) error
	visit = func(c *Cell) error {
		switch state[c.Name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("dependency cycle detected at cell %s", c.Name)
		}
		state[c.Name] = visiting
		for _, d := range c.DependsOn {
			dc, ok := byName[d]
			if !ok {
				return fmt.Errorf("cell %s depends on missing cell %s", c.Name, d)
			}
			if err := visit(dc); err != nil {
				return err
			}
		}
		state[c.Name] = done
		order = append(order, c)
		return nil
	}
	for _, c := range s.Cells {
		if err := visit(c); err != nil {
			return nil, err
		}
	}
	return order, nil
}
