package runtime

import (
	"time"

	"github.com/vadv/gopher-lua-libs/base64"
	"github.com/vadv/gopher-lua-libs/crypto"
	"github.com/vadv/gopher-lua-libs/filepath"
	"github.com/vadv/gopher-lua-libs/humanize"
	"github.com/vadv/gopher-lua-libs/inspect"
	"github.com/vadv/gopher-lua-libs/json"
	"github.com/vadv/gopher-lua-libs/regexp"
	"github.com/vadv/gopher-lua-libs/shellescape"
	"github.com/vadv/gopher-lua-libs/strings"
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
		json.Preload(L)
		regexp.Preload(L)
		shellescape.Preload(L)
		strings.Preload(L)
		yaml.Preload(L)
		L.PreloadModule("time", timeLoader)
	})
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
