package spec

import (
	"reflect"
	"testing"
)

func stateOf(cells ...*Cell) *State { return &State{Cells: cells} }

func cellDeps(name string, deps ...string) *Cell { return &Cell{Name: name, DependsOn: deps} }

func TestDependencyOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		st    *State
		order []string
		err   string
	}{
		{"empty", stateOf(), nil, ""},
		{"load order", stateOf(cellDeps("a"), cellDeps("b")), []string{"a", "b"}, ""},
		{"deps first", stateOf(cellDeps("web", "db", "cache"), cellDeps("cache"), cellDeps("db", "cache")),
			[]string{"cache", "db", "web"}, ""},
		{"post-order dfs", stateOf(cellDeps("a", "c", "b"), cellDeps("b"), cellDeps("c")),
			[]string{"c", "b", "a"}, ""},
		{"diamond", stateOf(cellDeps("top", "l", "r"), cellDeps("l", "base"), cellDeps("r", "base"), cellDeps("base")),
			[]string{"base", "l", "r", "top"}, ""},
		{"missing", stateOf(cellDeps("web", "db")), nil, "cell web depends on missing cell db"},
		{"self cycle", stateOf(cellDeps("a", "a")), nil, "dependency cycle detected at cell a"},
		{"cycle", stateOf(cellDeps("a", "b"), cellDeps("b", "c"), cellDeps("c", "a")), nil,
			"dependency cycle detected at cell a"},
		{"cycle later", stateOf(cellDeps("x"), cellDeps("a", "b"), cellDeps("b", "a")), nil,
			"dependency cycle detected at cell a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.st.DependencyOrder()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Name)
			}
			if !reflect.DeepEqual(names, tc.order) {
				t.Fatalf("order = %v, want %v", names, tc.order)
			}
		})
	}
}
