// Command strip removes named top-level functions and methods from one Go source file, and then
// every import the remaining code no longer uses, and prints the result.
//
// The oracle builds kube-bench's check/controls.go with it: the JUnit and ASFF writers (and the
// viper getter only ASFF calls) need the Ginkgo reporters, the AWS SDK and viper, none of which
// the oracle uses or can fetch here. Everything else of the file is compiled as written.
//
// Usage: strip FILE NAME... > OUT
package main

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: strip FILE NAME...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "strip:", err)
		os.Exit(1)
	}
}

func run(file string, names []string) error {
	fset := token.NewFileSet()
	parsed, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, name := range names {
		wanted[name] = true
	}
	var kept []ast.Decl
	for _, decl := range parsed.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && wanted[fn.Name.Name] {
			delete(wanted, fn.Name.Name)
			continue
		}
		kept = append(kept, decl)
	}
	if len(wanted) > 0 {
		return fmt.Errorf("%s has no function %v", file, keys(wanted))
	}
	parsed.Decls = kept
	dropUnusedImports(parsed)
	// Comments attached to removed declarations would otherwise float into the output.
	parsed.Comments = nil
	return format.Node(os.Stdout, fset, parsed)
}

// dropUnusedImports removes imports whose package name no selector expression mentions any more.
func dropUnusedImports(file *ast.File) {
	used := map[string]bool{}
	ast.Inspect(file, func(node ast.Node) bool {
		if selector, ok := node.(*ast.SelectorExpr); ok {
			if ident, ok := selector.X.(*ast.Ident); ok {
				used[ident.Name] = true
			}
		}
		return true
	})
	var imports []*ast.ImportSpec
	for _, decl := range file.Decls {
		general, ok := decl.(*ast.GenDecl)
		if !ok || general.Tok != token.IMPORT {
			continue
		}
		var specs []ast.Spec
		for _, spec := range general.Specs {
			imp := spec.(*ast.ImportSpec)
			importPath, _ := strconv.Unquote(imp.Path.Value)
			// gopkg.in/yaml.v2 is package yaml: the name is the last element up to a dot.
			name, _, _ := strings.Cut(path.Base(importPath), ".")
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if used[name] || name == "_" {
				specs = append(specs, spec)
				imports = append(imports, imp)
			}
		}
		general.Specs = specs
	}
	file.Imports = imports
}

func keys(set map[string]bool) string {
	var names []string
	for name := range set {
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}
