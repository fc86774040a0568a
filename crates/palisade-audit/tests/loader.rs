//! Rules-file semantics (append, override, exceptions, versions, visibility), load errors that
//! name the file, item and position, and condition-language edge cases, end to end.

use palisade_audit::engine::{Engine, Matching};
use palisade_audit::fields::Event;
use palisade_audit::rules::{self, LoadErrors, RuleSet};

fn load(files: &[(&str, &str)]) -> Result<RuleSet, LoadErrors> {
    rules::load(files)
}

fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match load(files) {
        Ok(_) => panic!("expected load errors"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn fired(files: &[(&str, &str)], event: &str) -> Vec<String> {
    let set = load(files).unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(set, Matching::All, "h".into());
    let event = Event::new(serde_json::from_str(event).unwrap(), 1);
    let mut alerts = Vec::new();
    engine.process(&event, &mut alerts);
    alerts.into_iter().map(|a| a.rule).collect()
}

/// A rule named `name` with `condition`, in the k8s_audit source.
fn rule(name: &str, condition: &str) -> String {
    format!("- rule: {name}\n  desc: d\n  condition: {condition}\n  output: o %ka.verb\n  priority: WARNING\n  source: k8s_audit\n")
}

const GET: &str = r#"{"auditID":"1","stage":"ResponseComplete","verb":"get","user":{"username":"ann","groups":["dev","ops"]},
    "requestURI":"/api/v1/namespaces/prod/pods/web?watch=true&label=a%20b","objectRef":{"resource":"pods","namespace":"prod","name":"web"},
    "responseStatus":{"code":200},"requestObject":{"spec":{"containers":[{"image":"nginx:1"},{"image":"redis:7"}]}}}"#;

#[test]
fn errors_name_file_item_and_position() {
    let text = format!("- list: l\n  items: [a]\n{}", rule("Bad Field", "ka.nope = 1"));
    let errs = errors(&[("my-rules.yaml", &text)]);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("my-rules.yaml:5:14: rule 'Bad Field': "), "{}", errs[0]);
    assert!(errs[0].contains("nonexistent field ka.nope"), "{}", errs[0]);

    let errs = errors(&[("m.yaml", "- macro: broken\n  condition: ka.verb = get and (ka.verb = x\n")]);
    assert!(errs[0].starts_with("m.yaml:2:14: macro 'broken': condition: expected a ')' token"), "{}", errs[0]);
    assert!(errs[0].contains("<here>"), "{}", errs[0]);

    let errs = errors(&[("y.yaml", "- rule: x\n  desc: [unclosed\n")]);
    assert!(errs[0].starts_with("y.yaml:"), "{}", errs[0]);
    assert!(errs[0].contains("invalid YAML"), "{}", errs[0]);
}

#[test]
fn every_error_is_reported_at_once() {
    let text = format!("{}{}{}", rule("A", "ka.nope=1"), rule("B", "undefined_macro"), rule("C", "ka.verb ="));
    let errs = errors(&[("r.yaml", &text)]);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(errs[1].contains("Undefined macro 'undefined_macro' used in filter."), "{}", errs[1]);
}

#[test]
fn required_keys_priorities_and_versions() {
    let errs = errors(&[("r.yaml", "- rule: R\n  desc: d\n  condition: ka.verb=get\n  priority: INFO\n")]);
    assert!(errs[0].contains("Item has no mapping for key 'output'"), "{}", errs[0]);
    let errs = errors(&[("r.yaml", &rule("R", "ka.verb=get").replace("WARNING", "LOUD"))]);
    assert!(errs[0].contains("invalid priority 'LOUD'"), "{}", errs[0]);
    let errs = errors(&[("r.yaml", "- required_engine_version: 9.0.0\n")]);
    assert!(errs[0].contains("require engine version 9.0.0"), "{}", errs[0]);
    assert!(load(&[("r.yaml", "- required_engine_version: 15\n- required_engine_version: 0.31.0\n")]).is_ok());
    let errs = errors(&[("r.yaml", "- required_plugin_versions:\n  - name: cloudtrail\n    version: 0.1.0\n")]);
    assert!(errs[0].contains("plugin requirement not satisfied: cloudtrail 0.1.0"), "{}", errs[0]);
    let alternatives = "- required_plugin_versions:\n  - name: k8saudit-nope\n    version: 0.1.0\n    alternatives:\n      - name: k8saudit\n        version: 0.11.0\n";
    assert!(load(&[("r.yaml", alternatives)]).is_ok());
    let errs = errors(&[("r.yaml", "- required_plugin_versions:\n  - name: json\n    version: 9.0.0\n")]);
    assert!(errs[0].contains("json 9.0.0"), "{}", errs[0]);
}

#[test]
fn other_sources_are_skipped_with_a_warning_and_unknown_keys_warn() {
    let text = "- rule: Shell\n  desc: d\n  condition: proc.name = sh\n  output: o\n  priority: INFO\n- list: l\n  items: []\n  colour: red\n";
    let set = load(&[("r.yaml", text)]).unwrap();
    assert!(set.rules.is_empty());
    let warnings: Vec<String> = set.warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.iter().any(|w| w.contains("source 'syscall' skipped")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.starts_with("r.yaml:6:3: unexpected key 'colour'")), "{warnings:?}");
}

#[test]
fn lists_paste_nest_and_append() {
    let base = format!(
        "- list: inner\n  items: [get]\n- list: verbs\n  items: [inner, watch]\n{}",
        rule("R", "ka.verb in (verbs) and ka.user.name in (people)")
    );
    let people = "- list: people\n  items: [bob]\n";
    assert!(fired(&[("a.yaml", &format!("{people}{base}"))], GET).is_empty());
    let append = "- list: people\n  items: [ann]\n  append: true\n";
    assert_eq!(fired(&[("a.yaml", &format!("{people}{base}")), ("b.yaml", append)], GET), ["R"]);
    let overridden = "- list: people\n  items: [ann]\n  override:\n    items: replace\n";
    assert_eq!(fired(&[("a.yaml", &format!("{people}{base}")), ("b.yaml", overridden)], GET), ["R"]);
    // A name that is no list stays a plain value.
    assert_eq!(fired(&[("a.yaml", &rule("R", "ka.verb in (get, nolist)"))], GET), ["R"]);
    let errs = errors(&[("a.yaml", "- list: ghost\n  items: [x]\n  append: true\n")]);
    assert!(errs[0].contains("list 'ghost': list has 'append' key but no list by that name already exists"), "{}", errs[0]);
}

#[test]
fn macros_expand_with_visibility_and_override() {
    let forward = format!("- macro: a\n  condition: b\n- macro: b\n  condition: ka.verb=get\n{}", rule("R", "a"));
    let errs = errors(&[("m.yaml", &forward)]);
    assert!(errs[0].contains("Undefined macro 'b'"), "{}", errs[0]);
    let base = format!("- macro: is_get\n  condition: ka.verb=nothing\n{}", rule("R", "is_get"));
    assert!(fired(&[("m.yaml", &base)], GET).is_empty());
    let appended = "- macro: is_get\n  condition: or ka.verb=get\n  append: true\n";
    assert_eq!(fired(&[("m.yaml", &base), ("n.yaml", appended)], GET), ["R"]);
    let replaced = "- macro: is_get\n  condition: ka.verb=get\n  override:\n    condition: replace\n";
    assert_eq!(fired(&[("m.yaml", &base), ("n.yaml", replaced)], GET), ["R"]);
    let recursive = format!("- macro: me\n  condition: ka.verb=x\n- macro: me\n  condition: me\n{}", rule("R", "me"));
    assert!(errors(&[("m.yaml", &recursive)])[0].contains("nest more than"));
}

#[test]
fn rule_append_override_and_enabled() {
    let base = rule("R", "ka.verb=get");
    assert_eq!(fired(&[("a.yaml", &base)], GET), ["R"]);
    let narrowed = "- rule: R\n  condition: and ka.user.name=bob\n  append: true\n";
    let set = load(&[("a.yaml", &base), ("b.yaml", "- rule: R\n  output: (appended)\n  tags: [x]\n  append: true\n")]).unwrap();
    assert_eq!(set.rules[0].tags, ["x"]);
    assert!(fired(&[("a.yaml", &base), ("b.yaml", narrowed)], GET).is_empty());
    let replaced = "- rule: R\n  condition: ka.verb=list\n  override:\n    condition: replace\n";
    assert!(fired(&[("a.yaml", &base), ("b.yaml", replaced)], GET).is_empty());
    let disabled = "- rule: R\n  enabled: false\n";
    assert!(fired(&[("a.yaml", &base), ("b.yaml", disabled)], GET).is_empty());
    let re_enabled = "- rule: R\n  enabled: true\n";
    assert_eq!(fired(&[("a.yaml", &base), ("b.yaml", disabled), ("c.yaml", re_enabled)], GET), ["R"]);

    let set = load(&[
        ("a.yaml", &base),
        ("b.yaml", "- rule: R\n  output: more\n  tags: [b, a]\n  priority: ERROR\n  override:\n    output: append\n    tags: append\n    priority: replace\n"),
    ])
    .unwrap();
    let engine = Engine::new(set, Matching::First, "h".into());
    let mut alerts = Vec::new();
    engine.process(&Event::new(serde_json::from_str(GET).unwrap(), 1), &mut alerts);
    assert!(alerts[0].output.ends_with("Error o get more"), "{}", alerts[0].output);
    assert_eq!(alerts[0].tags, ["a", "b"]);

    for (text, needle) in [
        ("- rule: R\n  condition: x\n  append: true\n  override:\n    condition: append\n", "cannot be used together"),
        ("- rule: R\n  override:\n    condition: append\n", "key 'condition' must be defined"),
        ("- rule: R\n  priority: INFO\n  override:\n    priority: append\n", "cannot be overridden with 'append'"),
        ("- rule: R\n  desc: x\n  output: y\n  override:\n    desc: replace\n", "key 'output' is not listed in 'override'"),
        ("- rule: Nope\n  condition: x\n  override:\n    condition: append\n", "no rule by that name already exists"),
        ("- rule: Nope\n  enabled: false\n", "rule has 'enabled' key but no rule by that name"),
        ("- rule: R\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n", "re-defined with a different source"),
        ("- rule: R\n  priority: INFO\n  append: true\n", "must have exceptions or condition"),
    ] {
        let errs = errors(&[("a.yaml", &base), ("b.yaml", text)]);
        assert!(errs[0].starts_with("b.yaml:1:3: rule '"), "{}", errs[0]);
        assert!(errs[0].contains(needle), "{needle}: {}", errs[0]);
    }
}

#[test]
fn exceptions_in_every_form() {
    let base = format!(
        "{}  exceptions:\n    - name: users\n      fields: ka.user.name\n      values: [bob, \"with space\"]\n    - name: pairs\n      fields: [ka.target.namespace, ka.target.name]\n      comps: [=, startswith]\n      values:\n        - [staging, we]\n",
        rule("R", "ka.verb=get")
    );
    assert_eq!(fired(&[("a.yaml", &base)], GET), ["R"]);
    let more = "- rule: R\n  exceptions:\n    - name: pairs\n      values:\n        - [prod, we]\n  override:\n    exceptions: append\n";
    assert!(fired(&[("a.yaml", &base), ("b.yaml", more)], GET).is_empty());
    let old_style = "- rule: R\n  exceptions:\n    - name: users\n      values: [ann]\n  append: true\n";
    for (text, needle) in [
        ("- rule: R\n  exceptions:\n    - name: users\n      fields: ka.verb\n      values: [x]\n  append: true\n", "only values"),
        ("- rule: R\n  exceptions:\n    - name: fresh\n      values: [x]\n  append: true\n", "must have fields"),
        ("- rule: R\n  exceptions:\n    - name: fresh\n      fields: ka.verb\n  append: true\n", "must have values"),
    ] {
        let errs = errors(&[("a.yaml", &base), ("b.yaml", text)]);
        assert!(errs[0].contains(needle), "{needle}: {}", errs[0]);
    }
    assert!(fired(&[("a.yaml", &base), ("b.yaml", old_style)], GET).is_empty());
    let lists = format!(
        "{}  exceptions:\n    - name: groups\n      fields: [ka.user.groups, ka.verb]\n      comps: [intersects, in]\n      values:\n        - [[ops, x], [get, list]]\n",
        rule("R", "ka.verb=get")
    );
    assert!(fired(&[("a.yaml", &lists)], GET).is_empty());

    for (exceptions, needle) in [
        ("    - name: e\n      fields: [ka.verb]\n      comps: [=, =]\n", "fields and comps lists must have equal length"),
        ("    - name: e\n      fields: ka.verb\n      comps: '='\n", "comps must be one of (in, pmatch, intersects)"),
        ("    - name: e\n      fields: [ka.verb]\n      comps: [like]\n", "'like' is not a supported comparison operator"),
        ("    - name: e\n      fields: [ka.verb, ka.uri]\n      values: [[a]]\n", "fields and values lists must have equal length"),
        ("    - name: e\n      fields: [ka.nope]\n      values: [[a]]\n", "nonexistent field ka.nope"),
    ] {
        let text = format!("{}  exceptions:\n{exceptions}", rule("R", "ka.verb=get"));
        let errs = errors(&[("e.yaml", &text)]);
        assert!(errs[0].contains(needle), "{needle}: {}", errs[0]);
    }
}

#[test]
fn condition_edge_cases() {
    let cases = [
        ("not not ka.verb=get", true),
        ("not(ka.verb=list)", true),
        ("ka.verb=get and(ka.user.name=ann)", true),
        ("ka.verb=list or(ka.user.name=ann)", true),
        ("ka.verb=list or not ka.verb exists", false),
        ("ka.verb in ()", false),
        ("not ka.verb in ()", true),
        ("ka.user.groups in (dev, ops)", true),
        ("ka.user.groups in (dev)", false),
        ("ka.user.groups intersects (ops)", true),
        ("ka.req.pod.containers.image.repository in (nginx, redis)", true),
        ("ka.req.pod.containers.image[1] intersects (redis:7)", true),
        ("ka.req.pod.initContainers.image exists", false),
        ("ka.response.code startswith 2", true),
        ("ka.response.code >= 200 and ka.response.code < 300", true),
        ("ka.response.code != 404", true),
        ("ka.target.subresource != exec", false),
        ("ka.user.name icontains ANN", true),
        ("ka.user.name bcontains 616e", true),
        ("ka.user.name bstartswith 61", true),
        ("ka.uri glob '/api/v1/*/prod/pods/*'", true),
        ("ka.uri iglob '/API/*'", true),
        ("ka.uri regex '/api/v1/namespaces/[a-z]+/pods/.*'", true),
        ("ka.uri pmatch (/api/v1/namespaces)", true),
        ("ka.uri.param[watch] = true", true),
        ("ka.uri.param[label] = 'a b'", true),
        ("ka.uri.param[missing] exists", false),
        ("jevt.value[/objectRef/namespace] = prod", true),
        ("jevt.value[/responseStatus] = '{\"code\":200}'", true),
        ("jevt.value[/nothing] exists", false),
        ("jevt.value['/user/username'] = ann", true),
        ("tolower(toupper(ka.user.name)) = ann", true),
        ("len(ka.user.groups) = 2", true),
        ("len(ka.user.name) > 2", true),
        ("basename(ka.uri) startswith web", true),
        ("b64(ka.uri) exists", false),
        ("b64(jevt.value[/objectRef/name]) exists", false),
        ("ka.target.name = val(ka.target.name)", true),
        ("ka.target.name != val(ka.target.namespace)", true),
        ("ka.target.name = val(ka.target.subresource)", false),
        ("evt.num = 1 and evt.source = k8s_audit", true),
        ("ka.verb=\"get\"", true),
        ("ka.verb='get'", true),
        ("ka.verb==get", true),
    ];
    for (condition, expected) in cases {
        let result = !fired(&[("c.yaml", &rule("R", &format!("'{}'", condition.replace('\'', "''"))))], GET).is_empty();
        assert_eq!(result, expected, "{condition}");
    }
}

#[test]
fn condition_errors() {
    for (condition, needle) in [
        ("ka.user.groups = dev", "only supports operators 'exists', 'in' and 'intersects'"),
        ("ka.uri.param exists", "requires an argument"),
        ("ka.verb[0] = get", "does not take an argument"),
        ("ka.req.pod.containers.image[x] in (a)", "not an array index"),
        ("jevt.value[stage] = x", "is not a JSON pointer"),
        ("ka.uri regex '('", "invalid regex"),
        ("len(len(ka.verb)) = 1", "needs a string value"),
        ("ka.verb = get or", "expected blank or '(' after 'or'"),
        ("ka.verb = get andnot ka.verb = x", "expected blank or '(' after 'and'"),
        ("(ka.verb = get", "expected a ')' token"),
    ] {
        let errs = errors(&[("c.yaml", &rule("R", &format!("'{}'", condition.replace('\'', "''"))))]);
        assert!(errs[0].contains(needle), "{condition}: {}", errs[0]);
    }
}

#[test]
fn hostile_rule_files_fail_cleanly() {
    let deep = format!("- macro: m\n  condition: '{}ka.verb=get{}'\n", "(".repeat(3000), ")".repeat(3000));
    assert!(errors(&[("d.yaml", &deep)])[0].contains("max depth"));
    let wide = (0..5000).map(|i| format!("ka.verb = v{i}")).collect::<Vec<_>>().join(" or ");
    assert!(load(&[("w.yaml", &rule("R", &format!("'{wide}'")))]).is_ok());
    let nested_yaml = format!("- rule: {}\n", "[".repeat(100_000));
    assert!(!errors(&[("n.yaml", &nested_yaml)]).is_empty());
    let not_a_sequence = errors(&[("s.yaml", "rule: x\n")]);
    assert!(not_a_sequence[0].contains("not a sequence"), "{}", not_a_sequence[0]);
}

#[test]
fn outputs_render_missing_and_list_values_like_falco() {
    let text = "- rule: R\n  desc: d\n  condition: ka.verb=get\n  output: \"u=%ka.user.name g=%ka.user.groups s=%ka.target.subresource p=%ka.uri.param[watch] r=%jevt.value[/responseStatus]\"\n  priority: NOTICE\n  source: k8s_audit\n";
    let set = load(&[("o.yaml", text)]).unwrap();
    let engine = Engine::new(set, Matching::First, "h".into());
    let mut alerts = Vec::new();
    engine.process(&Event::new(serde_json::from_str(GET).unwrap(), 1), &mut alerts);
    assert!(alerts[0].output.ends_with(r#"Notice u=ann g=(dev,ops) s=<NA> p=true r={"code":200}"#), "{}", alerts[0].output);
    assert_eq!(alerts[0].output_fields["ka.uri.param[watch]"], "true");
    assert_eq!(alerts[0].output_fields["ka.target.subresource"], "<NA>");
}

/// docs/audit.md lists every field (container fields once, as `ka.req.pod.C.<field>`).
#[test]
fn every_field_is_documented() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit.md")).unwrap();
    for field in palisade_audit::fields::FIELDS.iter() {
        let name = ["containers", "initContainers", "ephemeralContainers"]
            .iter()
            .fold(field.name.clone(), |name, set| name.replace(&format!("ka.req.pod.{set}."), "ka.req.pod.C."));
        assert!(docs.contains(&format!("`{name}")), "{} is not documented in docs/audit.md", field.name);
    }
}
