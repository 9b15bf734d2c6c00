package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The CLI and the GUI go through app. From query they may use only its
// value vocabulary (vocabulary below): the types app hands out and the
// formatting of their cells. Nothing else of l4case crosses.
var vocabulary = map[string]bool{
	"Page": true, "View": true, "Param": true, "TableCount": true, "SQLError": true,
	"ExportFormat": true, "CSV": true, "JSON": true, "Text": true, "JSONValue": true, "ColumnInfo": true,
}

// allowedImports are the l4case packages cli/ and ui/ may import.
var allowedImports = map[string]map[string]bool{
	"cli": {"app": true, "query": true, "ui": true, "gen": true, "internal/earlyenv": true},
	"ui":  {"app": true, "query": true, "assets": true, "internal/earlyenv": true, "ui/timeline": true},
	// the timeline's geometry: no Fyne, nothing but app's trace
	"ui/timeline": {"app": true},
}

const module = "dev.l4case/l4case/"

func TestOneDoor(t *testing.T) {
	for dir, allowed := range allowedImports {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if len(files) == 0 {
			t.Fatalf("no Go files in ../%s", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			queryName := ""
			for _, imp := range file.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.HasPrefix(p, module) {
					continue
				}
				rel := strings.TrimPrefix(p, module)
				if !allowed[rel] {
					t.Errorf("%s imports %s: go through app", f, rel)
				}
				if rel == "query" {
					queryName = "query"
					if imp.Name != nil {
						queryName = imp.Name.Name
					}
				}
			}
			if queryName == "" {
				continue
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == queryName && !vocabulary[sel.Sel.Name] {
					t.Errorf("%s uses query.%s, which is not part of the vocabulary: go through app", f, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

// SQL is query's: no string literal in app, cli or ui (tests aside) holds a
// statement.
func TestNoSQLOutsideQuery(t *testing.T) {
	stmt := regexp.MustCompile(`(?i)\b(SELECT|INSERT|CREATE|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|ATTACH|COPY|PRAGMA)\s`)
	var found []string
	for _, dir := range []string{"app", "cli", "ui", "ui/timeline"} {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				if m := stmt.FindString(s); m != "" && strings.ToUpper(m) == m {
					found = append(found, fset.Position(lit.Pos()).String()+": "+strings.TrimSpace(m))
				}
				return true
			})
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.Errorf("SQL outside query/: %s", f)
	}
}
