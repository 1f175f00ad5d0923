package runtime

import (
	"maps"
	"reflect"
	"slices"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Every VM starts with the same library tables, and filling them entry by
// entry was most of the cost of NewVM: gopher-lua keeps a Go map for the
// values, a second map and a slice for the iteration order, and grows all
// three per key. cloneTable copies a filled template table instead, as a
// whole: the clone has its own maps and slices (nothing written to it
// reaches the template), the same contents and the same pairs() order.
//
// It needs the fields of gopher-lua's LTable, which are unexported: ltable
// mirrors them (go.mod pins gopher-lua v1.1.2), and canCloneTables checks
// at start-up that the mirror still matches, field by field, name, type and
// offset. If it does not, openStdlib fills tables entry by entry as before.

// ltable mirrors lua.LTable of gopher-lua v1.1.2.
type ltable struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

// canCloneTables reports whether ltable matches lua.LTable.
var canCloneTables = func() bool {
	a, b := reflect.TypeFor[lua.LTable](), reflect.TypeFor[ltable]()
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := 0; i < a.NumField(); i++ {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}()

// cloneTable returns a table with the contents, iteration order and
// metatable of t, sharing no storage with it. Only for canCloneTables.
func cloneTable(t *lua.LTable) *lua.LTable {
	c := &lua.LTable{}
	src := (*ltable)(unsafe.Pointer(t))
	dst := (*ltable)(unsafe.Pointer(c))
	dst.Metatable = src.Metatable
	dst.array = slices.Clone(src.array)
	dst.dict = maps.Clone(src.dict)
	dst.strdict = maps.Clone(src.strdict)
	dst.keys = slices.Clone(src.keys)
	dst.k2i = maps.Clone(src.k2i)
	return c
}
