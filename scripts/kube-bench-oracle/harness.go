// Command kube-bench-oracle evaluates a Palisade node snapshot with kube-bench's own check code
// and prints the document `kube-bench --json` would print on that node.
//
// This file is ours; scripts/kube-bench-oracle/build compiles it against kube-bench's check
// package (check.go, test.go, controls.go read from kube-bench's source). The harness only does
// what kube-bench's cmd package does around that code, restated here because cmd cannot be built
// without viper, cobra and the Kubernetes client: read the control file of each snapshot target,
// substitute the target's variables (cmd/util.go makeSubstitutions, in cmd/common.go runChecks'
// order), generate the default env audit (cmd/common.go generateDefaultEnvAudit), filter
// (cmd/common.go NewRunFilter, parseSkipIds), sort the sections and marshal the totals
// (cmd/common.go writeOutput, writeJSONOutput). Parsing, the state machine, every test item and
// comparison, running the audit scripts with /bin/sh, the JSON layout and the text writers
// (cmd/common.go prettyPrint and printSummary, with -text) are kube-bench's.
//
// Audits are replayed: each audit, audit_env and audit_config script is swapped, just before
// kube-bench's runner runs it, for a script that prints the recorded output and exits with the
// recorded status (or dies of the recorded signal); the original texts are put back afterwards,
// in the check and in the reason of an audit error.
//
//	kube-bench-oracle -config-dir DIR -snapshot FILE [-benchmark NAME] [-detected-version V]
//	                  [-check IDS | -group IDS] [-skip IDS] [-scored=false] [-unscored=false]
//	                  [-nototals] [-text [-noresults] [-noremediations] [-nosummary]
//	                  [-include-test-output] [-color]]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/aquasecurity/kube-bench/check"
	"github.com/aquasecurity/kube-bench/cmd"
)

// provenance is set by the build script: the kube-bench and client-go commits and the Go version.
var provenance = "unknown"

// Snapshot is the part of Palisade's node snapshot (crates/palisade-node/src/snapshot.rs) the
// oracle reads.
type Snapshot struct {
	KubernetesVersion string   `json:"kubernetesVersion"`
	VersionDetectedBy string   `json:"versionDetectedBy"`
	Benchmark         string   `json:"benchmark"`
	Targets           []Target `json:"targets"`
	Audits            []Audit  `json:"audits"`
}

// Target is one control file and the values of its `$<component><suffix>` variables, per suffix.
type Target struct {
	NodeType  string                       `json:"nodeType"`
	Variables map[string]map[string]string `json:"variables"`
}

// Audit is one recorded run of a substituted, trimmed audit script.
type Audit struct {
	Command    string  `json:"command"`
	Output     string  `json:"output"`
	ExitStatus *int    `json:"exitStatus"`
	Error      *string `json:"error"`
}

// The suffixes in the order cmd/common.go runChecks substitutes them.
var suffixes = []string{"bin", "conf", "svc", "kubeconfig", "cafile", "datadir"}

// missingMarker is printed by the stand-in for an audit the snapshot does not hold; a reason
// containing it means kube-bench needed that audit.
const missingMarker = "kube-bench-oracle: audit not recorded in the snapshot"

type options struct {
	configDir, snapshot, benchmark, detectedVersion string
	checks, groups, skips                           string
	scored, unscored, noTotals                      bool
	text, live                                      bool
	textOptions                                     cmd.TextOptions
}

func main() {
	var opts options
	flag.StringVar(&opts.configDir, "config-dir", "", "kube-bench cfg directory (config.yaml and one folder per benchmark)")
	flag.StringVar(&opts.snapshot, "snapshot", "", "Palisade node snapshot (JSON)")
	flag.StringVar(&opts.benchmark, "benchmark", "", "benchmark folder (default: the snapshot's)")
	flag.StringVar(&opts.detectedVersion, "detected-version", "", "the sections' detected_version (default: the snapshot's Kubernetes version if detected, else none)")
	flag.StringVar(&opts.checks, "check", "", "comma-separated check ids to run (kube-bench --check)")
	flag.StringVar(&opts.groups, "group", "", "comma-separated group ids to run (kube-bench --group)")
	flag.StringVar(&opts.skips, "skip", "", "comma-separated check or group ids reported as INFO (kube-bench --skip)")
	flag.BoolVar(&opts.scored, "scored", true, "run scored checks")
	flag.BoolVar(&opts.unscored, "unscored", true, "run unscored checks")
	flag.BoolVar(&opts.noTotals, "nototals", false, "print the sections without totals (kube-bench --nototals)")
	flag.BoolVar(&opts.text, "text", false, "print kube-bench's text output instead of --json")
	flag.BoolVar(&opts.textOptions.NoResults, "noresults", false, "text: no results (kube-bench --noresults)")
	flag.BoolVar(&opts.textOptions.NoRemediations, "noremediations", false, "text: no remediations (kube-bench --noremediations)")
	flag.BoolVar(&opts.textOptions.NoSummary, "nosummary", false, "text: no section summaries (kube-bench --nosummary)")
	flag.BoolVar(&opts.textOptions.IncludeTestOutput, "include-test-output", false, "text: the output of failed checks (kube-bench --include-test-output)")
	flag.BoolVar(&opts.textOptions.Color, "color", false, "text: colours, as kube-bench prints them on a terminal")
	flag.BoolVar(&opts.live, "live", false, "run the audits on this machine with kube-bench's own runner instead of replaying the snapshot's outputs (the snapshot gives the targets and variables); for timing kube-bench against palisade")
	version := flag.Bool("version", false, "print what the oracle was built from")
	flag.Parse()
	if *version {
		fmt.Println(provenance)
		return
	}
	if opts.configDir == "" || opts.snapshot == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	sections, err := run(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-bench-oracle:", err)
		os.Exit(1)
	}
	if opts.text {
		opts.textOptions.NoTotals = opts.noTotals
		cmd.WriteText(sections, opts.textOptions)
		return
	}
	out, err := marshal(sections, opts.noTotals)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-bench-oracle:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// run evaluates the snapshot's targets and returns the sections in kube-bench's order.
func run(opts options) ([]*check.Controls, error) {
	snapshot, err := readSnapshot(opts.snapshot)
	if err != nil {
		return nil, err
	}
	benchmark := opts.benchmark
	if benchmark == "" {
		benchmark = snapshot.Benchmark
	}
	// kube-bench's detected_version is "none" unless it detected the version itself.
	detectedVersion := opts.detectedVersion
	if detectedVersion == "" && snapshot.VersionDetectedBy != "" {
		detectedVersion = snapshot.KubernetesVersion
	}
	if detectedVersion == "" {
		detectedVersion = "none"
	}
	filter, err := runFilter(opts)
	if err != nil {
		return nil, err
	}
	scripts, err := os.MkdirTemp("", "kube-bench-oracle")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scripts)
	replay, err := newReplayRunner(snapshot.Audits, scripts)
	if err != nil {
		return nil, err
	}
	var runner check.Runner = replay
	if opts.live {
		runner = check.NewRunner()
	}

	var sections []*check.Controls
	for _, target := range snapshot.Targets {
		controls, err := loadControls(opts.configDir, benchmark, target, detectedVersion)
		if err != nil {
			return nil, err
		}
		controls.RunChecks(runner, filter, idSet(opts.skips))
		sections = append(sections, controls)
	}
	if len(replay.missing) > 0 {
		return nil, fmt.Errorf("kube-bench needed audits the snapshot does not hold:\n%s", strings.Join(replay.missing, "\n"))
	}

	// cmd/common.go writeOutput: sections by numeric id.
	sort.Slice(sections, func(i, j int) bool {
		a, _ := strconv.Atoi(sections[i].ID)
		b, _ := strconv.Atoi(sections[j].ID)
		return a < b
	})
	return sections, nil
}

// marshal restates cmd/common.go writeJSONOutput: the sections and their summed totals, or the
// sections alone.
func marshal(sections []*check.Controls, noTotals bool) ([]byte, error) {
	if noTotals {
		return json.Marshal(sections)
	}
	document := check.OverallControls{Controls: sections}
	for _, section := range sections {
		document.Totals.Pass += section.Pass
		document.Totals.Fail += section.Fail
		document.Totals.Warn += section.Warn
		document.Totals.Info += section.Info
	}
	return json.Marshal(document)
}

func readSnapshot(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var snapshot Snapshot
	if err := json.Unmarshal(data, &snapshot); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &snapshot, nil
}

// loadControls reads a target's control file, substitutes its variables and adds the default
// env audits, as cmd/common.go runChecks does before running the checks.
func loadControls(configDir, benchmark string, target Target, detectedVersion string) (*check.Controls, error) {
	file := filepath.Join(configDir, benchmark, target.NodeType+".yaml")
	in, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	text := string(in)
	var binSubstitutions []string
	for _, suffix := range suffixes {
		var substituted []string
		text, substituted = substitute(text, suffix, target.Variables[suffix])
		if suffix == "bin" {
			binSubstitutions = substituted
		}
	}
	controls, err := check.NewControls(check.NodeType(target.NodeType), []byte(text), detectedVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	addDefaultEnvAudits(controls, binSubstitutions)
	return controls, nil
}

// substitute replaces `$<component><suffix>` by the component's value, quoting values of several
// words, and returns the values that changed the text (cmd/util.go makeSubstitutions and
// multiWordReplace). kube-bench walks a Go map, in no fixed order; we walk components sorted.
func substitute(text, suffix string, values map[string]string) (string, []string) {
	components := make([]string, 0, len(values))
	for component := range values {
		components = append(components, component)
	}
	sort.Strings(components)
	var substituted []string
	for _, component := range components {
		value := values[component]
		if value == "" {
			continue
		}
		replacement := value
		if len(strings.Fields(value)) > 1 {
			replacement = "'" + value + "'"
		}
		before := text
		text = strings.ReplaceAll(text, "$"+component+suffix, replacement)
		if text != before {
			substituted = append(substituted, value)
		}
	}
	return text, substituted
}

// addDefaultEnvAudits gives every check with an env test item and no audit_env the script that
// prints the environment of the section's binary, known only when exactly one binary variable
// was substituted (cmd/common.go generateDefaultEnvAudit).
func addDefaultEnvAudits(controls *check.Controls, binSubstitutions []string) {
	binary := ""
	if len(binSubstitutions) == 1 {
		binary = binSubstitutions[0]
	}
	for _, group := range controls.Groups {
		for _, item := range group.Checks {
			if item.Tests == nil || item.DisableEnvTesting || item.AuditEnv != "" {
				continue
			}
			for _, test := range item.Tests.TestItems {
				if test.Env != "" {
					item.AuditEnv = fmt.Sprintf("cat \"/proc/$(/bin/ps -C %s -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'", binary)
					break
				}
			}
		}
	}
}

// runFilter restates cmd/common.go NewRunFilter.
func runFilter(opts options) (check.Predicate, error) {
	if opts.checks != "" && opts.groups != "" {
		return nil, errors.New("group option and check option can't be used together")
	}
	groups, checks := idList(opts.groups), idList(opts.checks)
	return func(g *check.Group, c *check.Check) bool {
		if len(groups) > 0 && !groups[g.ID] {
			return false
		}
		if len(checks) > 0 && !checks[c.ID] {
			return false
		}
		return opts.scored && c.Scored || opts.unscored && !c.Scored
	}, nil
}

// idList restates cmd/util.go cleanIDs (outer commas dropped, each id trimmed of spaces).
func idList(list string) map[string]bool {
	if list == "" {
		return nil
	}
	set := map[string]bool{}
	for _, id := range strings.Split(strings.Trim(list, ","), ",") {
		set[strings.Trim(id, " ")] = true
	}
	return set
}

// idSet restates cmd/common.go parseSkipIds.
func idSet(list string) map[string]bool {
	set := map[string]bool{}
	if list != "" {
		for _, id := range strings.Split(list, ",") {
			set[strings.Trim(id, " ")] = true
		}
	}
	return set
}

// replayRunner runs kube-bench's default runner on a check whose audit scripts are swapped for
// replays of the snapshot's records.
type replayRunner struct {
	audits  map[string]Audit
	dir     string
	outputs map[string]string
	missing []string
}

func newReplayRunner(audits []Audit, dir string) (*replayRunner, error) {
	runner := &replayRunner{audits: map[string]Audit{}, dir: dir, outputs: map[string]string{}}
	for _, audit := range audits {
		if _, twice := runner.audits[audit.Command]; twice {
			return nil, fmt.Errorf("the snapshot records %q twice", audit.Command)
		}
		runner.audits[audit.Command] = audit
	}
	return runner, nil
}

func (r *replayRunner) Run(c *check.Check) check.State {
	audit, auditEnv, auditConfig := c.Audit, c.AuditEnv, c.AuditConfig
	// kube-bench quotes the trimmed script in an audit error's reason; ours becomes the original.
	quoted := map[string]string{}
	var unrecorded []string
	for _, script := range []*string{&c.Audit, &c.AuditEnv, &c.AuditConfig} {
		original := strings.TrimSpace(*script)
		if original == "" {
			continue
		}
		if _, recorded := r.audits[original]; !recorded {
			unrecorded = append(unrecorded, original)
		}
		replay, err := r.replay(original)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kube-bench-oracle: check %s: %v\n", c.ID, err)
			os.Exit(1)
		}
		*script = replay
		quoted[strconv.Quote(strings.TrimSpace(replay))] = strconv.Quote(original)
	}

	state := check.NewRunner().Run(c)

	c.Audit, c.AuditEnv, c.AuditConfig = audit, auditEnv, auditConfig
	for replay, original := range quoted {
		c.Reason = strings.Replace(c.Reason, replay, original, 1)
	}
	if strings.Contains(c.Reason, missingMarker) {
		r.missing = append(r.missing, fmt.Sprintf("%s: %q", c.ID, unrecorded))
	}
	return state
}

// replay returns a script that prints the recorded output of command and ends as it ended. The
// command's own text follows the script's end, never run, so that an error message quoting the
// script contains every substring of the original (kube-bench looks for "No such file or
// directory" in it).
func (r *replayRunner) replay(command string) (string, error) {
	audit, recorded := r.audits[command]
	if !recorded {
		return fmt.Sprintf("echo '%s'\nexit 99\n%s", missingMarker, command), nil
	}
	output, err := r.outputFile(command, audit.Output)
	if err != nil {
		return "", err
	}
	var end string
	switch {
	case audit.Error != nil:
		signal, ok := signalNumber(*audit.Error)
		if !ok {
			return "", fmt.Errorf("%q ended with %q, which /bin/sh cannot reproduce", command, *audit.Error)
		}
		end = fmt.Sprintf("kill -%d $$", signal)
	case audit.ExitStatus != nil:
		end = fmt.Sprintf("exit %d", *audit.ExitStatus)
	default:
		return "", fmt.Errorf("%q has neither an exit status nor an error", command)
	}
	return fmt.Sprintf("cat '%s'\n%s\n%s", output, end, command), nil
}

func (r *replayRunner) outputFile(command, output string) (string, error) {
	if path, ok := r.outputs[command]; ok {
		return path, nil
	}
	path := filepath.Join(r.dir, strconv.Itoa(len(r.outputs))+".out")
	if err := os.WriteFile(path, []byte(output), 0o600); err != nil {
		return "", err
	}
	r.outputs[command] = path
	return path, nil
}

// signalNumber reads Go's text for a process killed by a signal (`signal: killed`).
func signalNumber(text string) (int, bool) {
	name := strings.TrimPrefix(text, "signal: ")
	if name == text {
		return 0, false
	}
	for number := 1; number < 32; number++ {
		if syscall.Signal(number).String() == name {
			return number, true
		}
	}
	return 0, false
}
