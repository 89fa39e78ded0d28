package core

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// Every exported Err* value is made by refusal, so it is in Refusals and
// carries the Refusal mark: a new refusal then needs no change in the UI.
func TestEveryErrIsAListedRefusal(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !id.IsExported() || !strings.HasPrefix(id.Name, "Err") {
						continue
					}
					names = append(names, id.Name)
					var fn *ast.Ident
					if call, ok := valueAt(vs, i).(*ast.CallExpr); ok {
						fn, _ = call.Fun.(*ast.Ident)
					}
					if fn == nil || fn.Name != "refusal" {
						t.Errorf("%s (%s) is not made with refusal(code, message)", id.Name, fset.Position(id.Pos()))
					}
				}
			}
		}
	}
	if len(names) != len(Refusals()) {
		t.Errorf("%d exported Err* values, %d refusals listed", len(names), len(Refusals()))
	}
}

func valueAt(vs *ast.ValueSpec, i int) ast.Expr {
	if i < len(vs.Values) {
		return vs.Values[i]
	}
	return nil
}

// One style for every sentinel: a code in snake case, and whole sentences
// that start with a capital letter and end with a full stop.
func TestRefusalStyle(t *testing.T) {
	code := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for _, r := range Refusals() {
		if !code.MatchString(r.Code) {
			t.Errorf("code %q is not snake case", r.Code)
		}
		m := r.Message
		if m == "" || !unicode.IsUpper([]rune(m)[0]) || !strings.HasSuffix(m, ".") || strings.Contains(m, "\n") {
			t.Errorf("%s: %q is not one or two whole sentences", r.Code, m)
		}
		if seen[m] {
			t.Errorf("%s: message %q is used twice", r.Code, m)
		}
		seen[m] = true
	}
}

func TestErrorfMatchesItsSentinel(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	err := Errorf(ErrNoSeat.Code, "No seat (%w). End a session.", cause)
	if !errors.Is(err, ErrNoSeat) || errors.Is(err, ErrProfileBusy) {
		t.Errorf("%v: Is by code does not hold", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "No seat (open /x: file does not exist). End a session." {
		t.Errorf("%v: the cause is lost", err)
	}
	var r Refusal
	if !errors.As(errors.Join(err), &r) || r.RefusalCode() != "no_seat" {
		t.Errorf("%v is not found as a Refusal", err)
	}
}
