package runtime

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"cells/modules/site"
	"cells/spec"
)

func init() {
	Register(Module{Name: site.Name, Loader: site.Loader})
}

// LoadState loads the desired state from the DSL directory dir
// (cellman-spec(5), LOADING): every entry whose name ends in ".lua" and
// that stats (following symlinks) as a regular file, not recursive, in byte
// order of the path "<dir>/<name>", each in a fresh sandboxed VM with the
// DSL builders as globals. A missing directory is an empty state. Names are
// checked and must be unique within a kind; dependencies are not checked
// here (see State.DependencyOrder).
func LoadState(dir string) (*spec.State, error) {
	return loadState(dir, loadOptions{})
}

// loadOptions tunes a load for tests and fuzzing.
type loadOptions struct {
	timeout time.Duration // per file; zero = the VM default
	workers int           // zero = GOMAXPROCS
	print   io.Writer     // print() output; nil = the VM default
	actions []*lua.FunctionProto
	ownDSL  bool // each VM requires cells.dsl itself (tests compare)
}

// customActions compiles the operator's action kinds of a DSL directory
// (<dir>/actions/*.lua, see ActionsDir) once per load; every DSL VM runs
// them before the DSL is installed, so their kinds validate and get builder
// globals like the built-in ones. A missing directory means none.
func customActions(dir string) ([]*lua.FunctionProto, error) {
	files, err := actionFiles(filepath.Join(dir, "actions"))
	if err != nil {
		return nil, fmt.Errorf("custom actions: %v", err)
	}
	protos := make([]*lua.FunctionProto, 0, len(files))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("custom actions: cannot open %s: %v", f, unwrapPathError(err))
		}
		proto, err := Compile(f, src)
		if err != nil {
			return nil, fmt.Errorf("custom actions: %v", err)
		}
		protos = append(protos, mainChunk(proto))
	}
	return protos, nil
}

func loadState(dir string, opts loadOptions) (*spec.State, error) {
	if dir == "" {
		return nil, errors.New("dsl directory path is empty")
	}
	paths, err := candidateFiles(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &spec.State{Dir: dir}, nil
		}
		return nil, err
	}
	if opts.actions == nil {
		if opts.actions, err = customActions(dir); err != nil {
			return nil, err
		}
	}
	frags := make([]*spec.State, len(paths))
	errs := make([]error, len(paths))
	workers := opts.workers
	if workers <= 0 {
		workers = goruntime.GOMAXPROCS(0)
	}
	if workers > len(paths) {
		workers = len(paths)
	}
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(paths) {
					return
				}
				frags[i], errs[i] = loadFile(paths[i], opts)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return merge(dir, paths, frags)
}

// candidateFiles lists "<dir>/<name>" for the .lua entries of dir that are
// regular files after following symlinks, sorted by byte order.
func candidateFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot open %s: %v", dir, unwrapPathError(err))
	}
	prefix := dir
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var paths []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lua") {
			continue
		}
		p := prefix + e.Name()
		// The directory entry tells a regular file (or a directory, ...)
		// without a stat per file; only symlinks need following.
		if t := e.Type(); t&fs.ModeSymlink == 0 {
			if !t.IsRegular() {
				continue
			}
		} else if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadFile runs one DSL file in a fresh VM and decodes its documents.
func loadFile(path string, opts loadOptions) (*spec.State, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: %v", path, unwrapPathError(err))
	}
	return loadSource(path, src, opts)
}

// loadSource runs src under the chunk name path in a fresh VM with the DSL
// installed and decodes the documents it declared.
func loadSource(path string, src []byte, opts loadOptions) (*spec.State, error) {
	vm := NewVM(VMOptions{Timeout: opts.timeout, Print: opts.print})
	defer vm.Close()
	for _, a := range opts.actions {
		if err := vm.Call(vm.L.NewFunctionFromProto(a), 0); err != nil {
			return nil, fmt.Errorf("failed to load %s: custom actions: %v", path, err)
		}
	}
	docs, err := installDSL(vm, opts.ownDSL)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: cannot install the DSL: %v", path, err)
	}
	proto, err := Compile(path, src)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: %v", path, err)
	}
	if err := vm.Call(vm.L.NewFunctionFromProto(mainChunk(proto)), 0); err != nil {
		return nil, fmt.Errorf("failed to load %s: %v", path, err)
	}
	st, err := spec.Decode(docs)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s: %v", path, err)
	}
	if len(st.Cells)+len(st.Volumes)+len(st.Applies) == 0 {
		return nil, fmt.Errorf("%s: dsl did not define cell(), volume(), or apply()", path)
	}
	return st, nil
}

// mainChunk drops the "needs arg" flag of a compiled chunk: gopher-lua
// (CompatVarArg) then fills a Lua 5.0 `arg` table with the varargs on every
// call, a string-keyed table with two Go maps. A main chunk cannot name it,
// since the compiler declares `arg` only in nested vararg functions, so
// nothing observes its absence. Nested functions keep their flag.
func mainChunk(p *lua.FunctionProto) *lua.FunctionProto {
	p.IsVarArg &^= lua.VarArgNeedsArg
	return p
}

// installOwnDSL runs require("cells.dsl").install(_G) in the VM and
// returns the documents table the builders append to.
func installOwnDSL(vm *VM) (*lua.LTable, error) {
	L := vm.L
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString("cells.dsl")); err != nil {
		return nil, errors.New(headLine(err.Error()))
	}
	mod, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if !ok {
		return nil, errors.New("cells.dsl is not a module table")
	}
	install, ok := mod.RawGetString("install").(*lua.LFunction)
	if !ok {
		return nil, errors.New("cells.dsl has no install function")
	}
	if err := L.CallByParam(lua.P{Fn: install, NRet: 1, Protect: true}, L.Get(lua.GlobalsIndex)); err != nil {
		return nil, errors.New(headLine(err.Error()))
	}
	docs, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if !ok {
		return nil, errors.New("cells.dsl install returned no documents table")
	}
	return docs, nil
}

// merge concatenates the per-file fragments in file order and applies the
// cross-document rules: valid names, unique within each kind.
func merge(dir string, paths []string, frags []*spec.State) (*spec.State, error) {
	st := &spec.State{Dir: dir}
	first := map[string]string{} // "<kind>\x00<name>" -> first path
	check := func(path, kind, name string) error {
		if !spec.ValidName(name) {
			return fmt.Errorf("%s: invalid %s name '%s' (allowed: A-Za-z0-9._-)", path, kind, name)
		}
		key := kind + "\x00" + name
		if p, ok := first[key]; ok {
			return fmt.Errorf("%s: duplicate %s '%s' (already defined in %s)", path, kind, name, p)
		}
		first[key] = path
		return nil
	}
	for i, f := range frags {
		p := paths[i]
		for _, c := range f.Cells {
			if err := check(p, "cell", c.Name); err != nil {
				return nil, err
			}
		}
		for _, v := range f.Volumes {
			if err := check(p, "volume", v.Name); err != nil {
				return nil, err
			}
		}
		for _, a := range f.Applies {
			if err := check(p, "apply", a.Name); err != nil {
				return nil, err
			}
		}
		st.Cells = append(st.Cells, f.Cells...)
		st.Volumes = append(st.Volumes, f.Volumes...)
		st.Applies = append(st.Applies, f.Applies...)
	}
	return st, nil
}

// headLine keeps the first line of a Lua error (a traceback follows).
func headLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
