package runtime

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// applyNativeName is the module of the apply engine's Go fast paths. It is
// a HostLibs member (only the apply engine's VM and `cellman run` scripts
// have it); luastd/cells/apply/layout.lua uses it when it can be required
// and keeps its own Lua code, the reference, otherwise.
const applyNativeName = "cells.apply.native"

func init() {
	registerHost(Module{Name: applyNativeName, Loader: func(L *lua.LState) int {
		t := L.CreateTable(0, 1)
		t.RawSetString("render", L.NewFunction(luaLayoutRender))
		L.Push(t)
		return 1
	}})
}

// luaLayoutRender is cells.apply.layout.render(cols, rows, max_width) in
// Go, byte for byte: a report of 1,000 cells has 7,000 rows, whose
// rendering took most of a dry run's Lua time. Unlike the Lua code it
// leaves rows as they are (no caller reads them afterwards).
func luaLayoutRender(L *lua.LState) int {
	cols := L.CheckTable(1)
	rows := L.CheckTable(2)
	limit, hasLimit := 0, false
	switch v := L.Get(3).(type) {
	case lua.LNumber:
		limit, hasLimit = int(v), true
	case *lua.LNilType:
	case lua.LBool:
		if v {
			L.ArgError(3, "number expected")
		}
	default:
		L.ArgError(3, "number expected")
	}
	ncol := cols.Len()
	titles := make([]string, ncol)
	w := make([]int, ncol)
	shrink := make([]bool, ncol)
	for i := 0; i < ncol; i++ {
		c, ok := cols.RawGetInt(i + 1).(*lua.LTable)
		if !ok {
			L.ArgError(1, "column tables expected")
		}
		title, ok := c.RawGetString("title").(lua.LString)
		if !ok {
			L.ArgError(1, "column title expected")
		}
		titles[i] = string(title)
		n := 1
		if m, ok := c.RawGetString("min").(lua.LNumber); ok {
			n = int(m)
		}
		w[i] = max(n, len(title))
		shrink[i] = lua.LVAsBool(c.RawGetString("shrink"))
	}
	// The rows as text (ipairs: up to the first nil), "-" for empty.
	cells := make([]string, 0, rows.Len()*ncol)
	nrow := 0
	for ; ; nrow++ {
		r := rows.RawGetInt(nrow + 1)
		if r == lua.LNil {
			break
		}
		rt, ok := r.(*lua.LTable)
		if !ok {
			L.ArgError(2, "row tables expected")
		}
		for i := 0; i < ncol; i++ {
			s := layoutText(L, rt.RawGetInt(i+1))
			if len(s) > w[i] {
				w[i] = len(s)
			}
			cells = append(cells, s)
		}
	}
	if hasLimit {
		total := 1
		for _, n := range w {
			total += n + 3
		}
		for total > limit {
			best := -1
			for i := range w {
				floor := max(4, len(titles[i]))
				if shrink[i] && w[i] > floor && (best < 0 || w[i] > w[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			w[best]--
			total--
		}
	}
	var b strings.Builder
	lineLen := 1
	for _, n := range w {
		lineLen += n + 3
	}
	b.Grow((nrow + 4) * (lineLen + 1))
	border := func() {
		b.WriteByte('+')
		for _, n := range w {
			for k := 0; k < n+2; k++ {
				b.WriteByte('-')
			}
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(values []string) {
		b.WriteString("| ")
		for i, s := range values {
			width := w[i]
			switch l := len(s); {
			case l > width && width < 4:
				b.WriteString(s[:max(width, 0)])
			case l > width:
				b.WriteString(s[:width-3])
				b.WriteString("...")
			default:
				b.WriteString(s)
				for ; l < width; l++ {
					b.WriteByte(' ')
				}
			}
			if i < ncol-1 {
				b.WriteString(" | ")
			} else {
				b.WriteString(" |\n")
			}
		}
	}
	border()
	line(titles)
	border()
	for r := 0; r < nrow; r++ {
		line(cells[r*ncol : (r+1)*ncol])
	}
	border()
	if b.Len() > DefaultMaxStringSize {
		luaTooLarge(L, "layout.render", DefaultMaxStringSize)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// layoutText is a table value as layout.lua's normalize turns it into
// text: "-" for nil or "", tostring for anything but a string.
func layoutText(L *lua.LState, v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		if v == "" {
			return "-"
		}
		return string(v)
	case *lua.LNilType:
		return "-"
	case lua.LNumber, lua.LBool:
		return v.String()
	}
	return L.ToStringMeta(v).String()
}
