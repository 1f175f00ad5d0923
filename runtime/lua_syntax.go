package runtime

import (
	"fmt"

	"github.com/yuin/gopher-lua/ast"
)

// maxSyntaxDepth caps how deeply a chunk's statements and expressions nest.
// gopher-lua compiles the syntax tree recursively with no limit of its own:
// a file of a million "{" aborts the whole process with a Go stack
// overflow, and 100,000 nested blocks or ".." operands take minutes in one
// uninterruptible call. C Lua stops at 200 levels; gopher-lua copes well
// with this many.
const maxSyntaxDepth = 1000

// maxConcatOperands caps the operands of one a .. b .. c chain, which
// gopher-lua joins in a single allocation that no limit can interrupt: 200
// operands of a 64 MiB string would ask for 12.5 GiB at once. With the
// default MaxStringSize, one chain builds at most 2 GiB; the memory
// watchdog stops the run right after.
const maxConcatOperands = 32

// syntaxTooDeep is the error raised by checkSyntaxDepth.
type syntaxTooDeep struct {
	line int
	msg  string
}

// checkSyntaxDepth walks the chunk and reports "<chunk>:<line>: chunk has
// too many syntax levels" where it nests deeper than maxSyntaxDepth. The
// walk itself stops at the limit, so it cannot overflow either.
func checkSyntaxDepth(name string, chunk []ast.Stmt) (err error) {
	defer func() {
		if r := recover(); r != nil {
			deep, ok := r.(syntaxTooDeep)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s:%d: %s", name, deep.line, deep.msg)
		}
	}()
	depthStmts(chunk, 0)
	return nil
}

func depthEnter(line, depth int) int {
	if depth >= maxSyntaxDepth {
		panic(syntaxTooDeep{line, fmt.Sprintf("chunk has too many syntax levels (more than %d)", maxSyntaxDepth)})
	}
	return depth + 1
}

func depthStmts(stmts []ast.Stmt, depth int) {
	for _, s := range stmts {
		depthStmt(s, depth)
	}
}

func depthExprs(exprs []ast.Expr, depth int) {
	for _, e := range exprs {
		depthExpr(e, depth)
	}
}

func depthStmt(s ast.Stmt, depth int) {
	d := depthEnter(s.Line(), depth)
	switch s := s.(type) {
	case *ast.AssignStmt:
		depthExprs(s.Lhs, d)
		depthExprs(s.Rhs, d)
	case *ast.LocalAssignStmt:
		depthExprs(s.Exprs, d)
	case *ast.FuncCallStmt:
		depthExpr(s.Expr, d)
	case *ast.DoBlockStmt:
		depthStmts(s.Stmts, d)
	case *ast.WhileStmt:
		depthExpr(s.Condition, d)
		depthStmts(s.Stmts, d)
	case *ast.RepeatStmt:
		depthExpr(s.Condition, d)
		depthStmts(s.Stmts, d)
	case *ast.IfStmt:
		depthExpr(s.Condition, d)
		depthStmts(s.Then, d)
		depthStmts(s.Else, d) // an elseif chain nests here
	case *ast.NumberForStmt:
		depthExprs([]ast.Expr{s.Init, s.Limit, s.Step}, d)
		depthStmts(s.Stmts, d)
	case *ast.GenericForStmt:
		depthExprs(s.Exprs, d)
		depthStmts(s.Stmts, d)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			depthExpr(s.Name.Func, d)
			depthExpr(s.Name.Receiver, d)
		}
		if s.Func != nil {
			depthExpr(s.Func, d)
		}
	case *ast.ReturnStmt:
		depthExprs(s.Exprs, d)
	}
}

func depthExpr(e ast.Expr, depth int) {
	if e == nil {
		return
	}
	d := depthEnter(e.Line(), depth)
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		depthExpr(e.Object, d)
		depthExpr(e.Key, d)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			depthExpr(f.Key, d)
			depthExpr(f.Value, d)
		}
	case *ast.FuncCallExpr:
		depthExpr(e.Func, d)
		depthExpr(e.Receiver, d)
		depthExprs(e.Args, d)
	case *ast.LogicalOpExpr:
		depthExpr(e.Lhs, d)
		depthExpr(e.Rhs, d)
	case *ast.RelationalOpExpr:
		depthExpr(e.Lhs, d)
		depthExpr(e.Rhs, d)
	case *ast.StringConcatOpExpr:
		n := 2
		for r, ok := e.Rhs.(*ast.StringConcatOpExpr); ok; r, ok = r.Rhs.(*ast.StringConcatOpExpr) {
			n++
		}
		if n > maxConcatOperands {
			panic(syntaxTooDeep{e.Line(), fmt.Sprintf("too many operands of '..' (%d, max %d): use table.concat", n, maxConcatOperands)})
		}
		depthExpr(e.Lhs, d)
		depthExpr(e.Rhs, d)
	case *ast.ArithmeticOpExpr:
		depthExpr(e.Lhs, d)
		depthExpr(e.Rhs, d)
	case *ast.UnaryMinusOpExpr:
		depthExpr(e.Expr, d)
	case *ast.UnaryNotOpExpr:
		depthExpr(e.Expr, d)
	case *ast.UnaryLenOpExpr:
		depthExpr(e.Expr, d)
	case *ast.FunctionExpr:
		depthStmts(e.Stmts, d)
	}
}
