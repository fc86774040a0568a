// Command strip removes named top-level functions and methods from one Go source file (or, with
// -keep, every top-level declaration but the named functions, variables, constants and types),
// then every import the remaining code no longer uses, and prints the result.
//
// The oracle builds kube-bench's check/controls.go with it: the JUnit and ASFF writers (and the
// viper getter only ASFF calls) need the Ginkgo reporters, the AWS SDK and viper, none of which
// the oracle uses or can fetch here. Everything else of that file is compiled as written. From
// the cmd package it keeps only the text writers and the flags and colours they read.
//
// Usage: strip [-keep] FILE NAME... > OUT
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
	args := os.Args[1:]
	keep := len(args) > 0 && args[0] == "-keep"
	if keep {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: strip [-keep] FILE NAME...")
		os.Exit(2)
	}
	if err := run(args[0], args[1:], keep); err != nil {
		fmt.Fprintln(os.Stderr, "strip:", err)
		os.Exit(1)
	}
}

func run(file string, names []string, keep bool) error {
	fset := token.NewFileSet()
	parsed, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return err
	}
	named := map[string]bool{}
	for _, name := range names {
		named[name] = true
	}
	found := map[string]bool{}
	var kept []ast.Decl
	for _, decl := range parsed.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			name := decl.Name.Name
			found[name] = found[name] || named[name]
			if named[name] == keep {
				kept = append(kept, decl)
			}
		case *ast.GenDecl:
			if decl.Tok == token.IMPORT || !keep {
				kept = append(kept, decl)
				continue
			}
			var specs []ast.Spec
			for _, spec := range decl.Specs {
				for _, name := range specNames(spec) {
					if named[name] {
						found[name] = true
						specs = append(specs, spec)
						break
					}
				}
			}
			if len(specs) > 0 {
				decl.Specs = specs
				kept = append(kept, decl)
			}
		}
	}
	var missing []string
	for _, name := range names {
		if !found[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s declares no %s", file, strings.Join(missing, ", "))
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

// specNames are the names a variable, constant or type specification declares.
func specNames(spec ast.Spec) []string {
	switch spec := spec.(type) {
	case *ast.ValueSpec:
		var names []string
		for _, name := range spec.Names {
			names = append(names, name.Name)
		}
		return names
	case *ast.TypeSpec:
		return []string{spec.Name.Name}
	}
	return nil
}
