// Package cmd, as the oracle builds it: kube-bench's text writers (cmd/common.go prettyPrint,
// printSummary, colorPrint, printRawOutput, writeStdoutOutput, getSummaryTotals), its output
// flags (cmd/root.go) and colours (cmd/util.go), kept from kube-bench's source by the build
// script, plus this file of ours, which sets those flags and calls kube-bench's writer.
package cmd

import (
	"github.com/aquasecurity/kube-bench/check"
	"github.com/fatih/color"
)

// TextOptions are kube-bench's flags for its text output.
type TextOptions struct {
	NoResults, NoSummary, NoRemediations, NoTotals, IncludeTestOutput bool
	// Color: kube-bench colours a terminal only; the oracle's output never is one.
	Color bool
}

// WriteText prints sections to standard output as `kube-bench` does without --json.
func WriteText(sections []*check.Controls, options TextOptions) {
	noResults = options.NoResults
	noSummary = options.NoSummary
	noRemediations = options.NoRemediations
	noTotals = options.NoTotals
	includeTestOutput = options.IncludeTestOutput
	color.NoColor = !options.Color
	writeStdoutOutput(sections)
}
