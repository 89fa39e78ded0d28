package refusal_test

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

	// Every package that declares refusals, linked in so that All lists
	// theirs too; TestEveryErrIsAListedRefusal asks for a new one here.
	"adhocstation/core"
	_ "adhocstation/core/firewall"
	_ "adhocstation/core/mail"
	_ "adhocstation/core/oauth"
	_ "adhocstation/core/pairing"
	_ "adhocstation/core/record"
	"adhocstation/core/refusal"
	_ "adhocstation/core/remote"
	_ "adhocstation/core/team"
)

// linked are the folders (under core/) of the packages imported above.
var linked = map[string]bool{".": true, "firewall": true, "mail": true, "oauth": true, "pairing": true, "record": true, "remote": true, "refusal": true, "team": true}

// Every exported Err* value of core and the packages under it is made by
// refusal.New, so it is in All and carries the Refusal mark: a new
// refusal then needs no change in the UI. core/wire and core/hublink are
// left out: the Support Session app imports wire and nothing else of the
// station, the hub program imports hublink, and the errors of both are
// protocol failures the station words itself.
func TestEveryErrIsAListedRefusal(t *testing.T) {
	fset := token.NewFileSet()
	var names []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join("..", "wire") || path == filepath.Join("..", "hublink") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel("..", filepath.Dir(path))
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
					if !madeByNew(valueAt(vs, i)) {
						t.Errorf("%s (%s) is not made with refusal.New(code, message)", id.Name, fset.Position(id.Pos()))
					}
					if !linked[dir] {
						t.Errorf("%s (%s): import core/%s in this test, so that refusal.All lists its refusals", id.Name, fset.Position(id.Pos()), dir)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(refusal.All()) {
		t.Errorf("%d exported Err* values, %d refusals listed", len(names), len(refusal.All()))
	}
}

// madeByNew says v is a call of refusal.New.
func madeByNew(v ast.Expr) bool {
	call, ok := v.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "refusal" && sel.Sel.Name == "New"
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
	for _, r := range refusal.All() {
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
	err := core.Errorf(core.ErrNoSeat.Code, "No seat (%w). End a session.", cause)
	if !errors.Is(err, core.ErrNoSeat) || errors.Is(err, core.ErrProfileBusy) {
		t.Errorf("%v: Is by code does not hold", err)
	}
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "No seat (open /x: file does not exist). End a session." {
		t.Errorf("%v: the cause is lost", err)
	}
	var r refusal.Refusal
	if !errors.As(errors.Join(err), &r) || r.RefusalCode() != "no_seat" {
		t.Errorf("%v is not found as a Refusal", err)
	}
}
