package spec

// Value is a canonical value of an action argument: String, Int, Bool,
// List, Map or FromEnv. It has no floats, functions or cycles, so it hashes
// and compares deterministically.
type Value interface{ isValue() }

// String is a string value.
type String string

// Int is an integer value (Lua numbers with no fraction, |n| <= 2^53).
type Int int64

// Bool is a boolean value.
type Bool bool

// List is an array value (a Lua table with keys exactly 1..n).
type List []Value

// Map is a table value with string keys; hashing sorts the keys.
type Map map[string]Value

// FromEnv is a from_env("NAME") reference, resolved when the action runs.
type FromEnv string

func (String) isValue()  {}
func (Int) isValue()     {}
func (Bool) isValue()    {}
func (List) isValue()    {}
func (Map) isValue()     {}
func (FromEnv) isValue() {}
