package site

import (
	"io"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func newState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	L.PreloadModule(Name, Loader)
	return L
}

// TestWhereSkipsLuastd calls where() through a function compiled under a
// luastd/ chunk name: the reported site is the operator's call.
func TestWhereSkipsLuastd(t *testing.T) {
	L := newState(t)
	lib, err := L.Load(stringReader("local s = require('cells.site') return function() return s.where() end"), "luastd/cells/x.lua")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(lib)
	L.Call(0, 1)
	L.SetGlobal("helper", L.Get(-1))
	L.Pop(1)
	if err := L.DoString("\n\nfile, line = helper()"); err != nil {
		t.Fatal(err)
	}
	if f, l := L.GetGlobal("file").String(), L.GetGlobal("line").String(); f != "<string>" || l != "3" {
		t.Fatalf("where() = %s:%s, want <string>:3", f, l)
	}
}

func TestPredicates(t *testing.T) {
	L := newState(t)
	for src, want := range map[string]bool{
		`return s.is_name("web-1.a_b")`:                            true,
		`return s.is_name("")`:                                     false,
		`return s.is_name("..")`:                                   false,
		`return s.is_name("a b")`:                                  false,
		`return s.is_name(5)`:                                      false,
		`return s.is_env_name("_A1")`:                              true,
		`return s.is_env_name("1A")`:                               false,
		`return s.is_token_name("1A")`:                             true,
		`return s.is_token_name("a-b")`:                            false,
		`return s.is_digits("0123")`:                               true,
		`return s.is_digits("")`:                                   false,
		`return s.is_octal("0758")`:                                false,
		`return s.is_clean_abs("/")`:                               true,
		`return s.is_clean_abs("/a/b")`:                            true,
		`return s.is_clean_abs("/a/")`:                             false,
		`return s.is_clean_abs("/a/../b")`:                         false,
		`return s.is_clean_abs("a")`:                               false,
		`return s.has_control("a\tb")`:                             true,
		`return s.has_control("ab")`:                               false,
		`return #s.split("a::b", ":") == 3`:                        true,
		`return s.split("", ",")[1] == ""`:                         true,
		`return s.is_array({})`:                                    true,
		`return s.is_array({ "a", "b" })`:                          true,
		`return s.is_array({ "a", x = 1 })`:                        false,
		`return s.is_array({ [2] = "b" })`:                         false,
		`return s.is_array({ [1.5] = "b" })`:                       false,
		`return s.is_array("a")`:                                   false,
		`return s.is_array(setmetatable({}, {})) == nil`:           true,
		`return s.only_keys({}, {})`:                               true,
		`return s.only_keys({ a = 1, b = 2 }, { "b", "a" })`:       true,
		`return s.only_keys({ a = 1, c = 2 }, { "b", "a" })`:       false,
		`return s.only_keys({ 1 }, { "b", "a" })`:                  false,
		`return s.only_keys({ a = 1 }, setmetatable({ "a" }, {}))`: false,
	} {
		if err := L.DoString("local s = require('cells.site') " + src); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := lua.LVAsBool(L.Get(-1)); got != want {
			t.Errorf("%s = %v, want %v", src, got, want)
		}
		L.Pop(1)
	}
}

func stringReader(s string) io.Reader { return strings.NewReader(s) }
