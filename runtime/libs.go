package runtime

import (
	gostrings "strings"
	"time"
	"unicode"

	"github.com/vadv/gopher-lua-libs/base64"
	"github.com/vadv/gopher-lua-libs/crypto"
	"github.com/vadv/gopher-lua-libs/filepath"
	"github.com/vadv/gopher-lua-libs/humanize"
	"github.com/vadv/gopher-lua-libs/inspect"
	"github.com/vadv/gopher-lua-libs/json"
	"github.com/vadv/gopher-lua-libs/regexp"
	"github.com/vadv/gopher-lua-libs/shellescape"
	luastrings "github.com/vadv/gopher-lua-libs/strings"
	luatime "github.com/vadv/gopher-lua-libs/time"
	"github.com/vadv/gopher-lua-libs/yaml"
	lua "github.com/yuin/gopher-lua"
)

// ScriptLibs is the RegisterLib group of gopher-lua-libs modules that
// `cellman run` scripts may require: json, yaml, strings, filepath, time,
// regexp, inspect, base64, crypto, humanize and shellescape. Only these
// sub-packages are imported: never cmd (runs shell commands), http, plugin
// or the root package, which pulls in all of them.
const ScriptLibs = "gopher-lua-libs"

func init() {
	RegisterLib(ScriptLibs, func(L *lua.LState) {
		base64.Preload(L)
		crypto.Preload(L)
		filepath.Preload(L)
		humanize.Preload(L)
		inspect.Preload(L)
		regexp.Preload(L)
		shellescape.Preload(L)
		L.PreloadModule("strings", stringsLoader)
		L.PreloadModule("json", guardedEncoder(json.Loader, "json", "json.Encoder"))
		L.PreloadModule("yaml", guardedEncoder(yaml.Loader, "yaml", "yaml.Encoder"))
		L.PreloadModule("time", timeLoader)
	})
}

// maxSplitParts caps the tables strings.split and strings.fields build in
// one Go call: each part costs some 50 bytes, so splitting a 64 MiB string
// into characters would take gigabytes before any limit could act.
const maxSplitParts = 1 << 22

// stringsLoader is the strings module with split and fields refusing more
// than maxSplitParts parts, counted before anything is built.
func stringsLoader(L *lua.LState) int {
	n := luastrings.Loader(L)
	t, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return n
	}
	for name, count := range map[string]func(*lua.LState) int{
		"split": func(L *lua.LState) int {
			return gostrings.Count(L.CheckString(1), L.OptString(2, "")) + 1
		},
		"fields": func(L *lua.LState) int { return countFields(L.CheckString(1)) },
	} {
		orig, ok := t.RawGetString(name).(*lua.LFunction)
		if !ok {
			continue
		}
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if count(L) > maxSplitParts {
				L.RaiseError("strings.%s: too many parts (max %d)", name, maxSplitParts)
			}
			return orig.GFunction(L)
		}))
	}
	return n
}

// countFields counts what strings.Fields would return, without building it.
func countFields(s string) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// maxEncodeDepth caps how deeply a value given to json or yaml encode may
// nest.
const maxEncodeDepth = 1000

// guardedEncoder wraps the loader of an encoding module (json, yaml) so
// that encode(v) and encoder:encode(v) first bound the text v would give.
// The libraries encode in one Go call, which no limit interrupts: a table
// nested a hundred thousand deep took 80 s and half a GiB in json.encode
// (encoding/json re-validates every level's output), and a table that
// holds the same subtable twice at each of 60 levels would encode to 2^60
// copies.
func guardedEncoder(loader lua.LGFunction, mod, encoderType string) lua.LGFunction {
	return func(L *lua.LState) int {
		n := loader(L)
		if t, ok := L.Get(-1).(*lua.LTable); ok {
			if enc, ok := t.RawGetString("encode").(*lua.LFunction); ok {
				t.RawSetString("encode", L.NewFunction(encodeGuard(mod+".encode", 1, enc.GFunction)))
			}
		}
		if mt, ok := L.GetTypeMetatable(encoderType).(*lua.LTable); ok {
			if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
				if enc, ok := idx.RawGetString("encode").(*lua.LFunction); ok && enc.IsG {
					idx.RawSetString("encode", L.NewFunction(encodeGuard(encoderType+":encode", 2, enc.GFunction)))
				}
			}
		}
		return n
	}
}

// encodeGuard checks argument arg before calling encode.
func encodeGuard(name string, arg int, encode lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		max := DefaultMaxStringSize
		w := encodeWalk{memo: map[*lua.LTable]int{}, path: map[*lua.LTable]bool{}, max: max}
		if w.size(L.Get(arg), 0) > max {
			L.RaiseError("%s: result too large (max %d bytes)", name, max)
		}
		if w.deep {
			L.RaiseError("%s: value nested more than %d deep", name, maxEncodeDepth)
		}
		return encode(L)
	}
}

// encodeWalk bounds the encoded size of a value: each table is sized once
// (a table reached twice counts twice, as the encoder writes it twice); a
// table that contains itself counts nothing more, the encoder reports it.
type encodeWalk struct {
	memo map[*lua.LTable]int
	path map[*lua.LTable]bool
	max  int
	deep bool
}

func (w *encodeWalk) size(v lua.LValue, depth int) int {
	switch x := v.(type) {
	case lua.LString:
		return 6*len(x) + 2 // "\u003c" for each '<' at worst
	case *lua.LTable:
		if depth >= maxEncodeDepth {
			w.deep = true
			return 0
		}
		if w.path[x] {
			return 0
		}
		if n, ok := w.memo[x]; ok {
			return n
		}
		w.path[x] = true
		n := 2
		for k, v := x.Next(lua.LNil); k != lua.LNil; k, v = x.Next(k) {
			n += w.size(k, depth+1) + w.size(v, depth+1) + 4
			if n > w.max || w.deep {
				n = min(n, w.max+1) // saturate: sums stay small
				break
			}
		}
		delete(w.path, x)
		w.memo[x] = n
		return n
	}
	return 32
}

// timeLoader is the time module with a sleep that ends early when the
// run's time or memory limit fires (the library's time.Sleep ignores it).
func timeLoader(L *lua.LState) int {
	n := luatime.Loader(L)
	if mod, ok := L.Get(-1).(*lua.LTable); ok {
		mod.RawSetString("sleep", L.NewFunction(luaSleep))
	}
	return n
}

// luaSleep is time.sleep(seconds).
func luaSleep(L *lua.LState) int {
	d := time.Duration(float64(L.CheckNumber(1)) * float64(time.Second))
	if d <= 0 {
		return 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	var done <-chan struct{}
	if ctx := L.Context(); ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-t.C:
	case <-done: // the VM raises the limit at its next instruction
	}
	return 0
}
