//! Deckhouse's FalcoAuditRules objects load as rule files, as written: their rules detect like
//! the same rules in Falco's own format, and errors name the object and the rule.

use palisade_audit::engine::{Engine, Matching};
use palisade_audit::fields::Event;
use palisade_audit::rules;
use palisade_audit::source::EventReader;

const OBJECT: &str = r#"apiVersion: deckhouse.io/v1alpha1
kind: FalcoAuditRules
metadata:
  name: pod-exec
spec:
  requiredK8sAuditPluginVersion: 0.1.0
  rules:
  - list:
      name: trusted_users
      items: [admin]
  - macro:
      name: pod_exec
      condition: ka.target.resource=pods and ka.target.subresource=exec
  - rule:
      name: Exec into pod
      desc: Someone other than a trusted user attached to or ran a command in a pod.
      condition: pod_exec and not ka.user.name in (trusted_users)
      output: Exec into pod (user=%ka.user.name pod=%ka.target.name command=%ka.uri.param[command])
      priority: Warning
      source: K8sAudit
      tags: [k8s]
"#;

const FALCO: &str = r#"
- required_plugin_versions:
  - name: k8saudit
    version: 0.1.0
- list: trusted_users
  items: [admin]
- macro: pod_exec
  condition: ka.target.resource=pods and ka.target.subresource=exec
- rule: Exec into pod
  desc: Someone other than a trusted user attached to or ran a command in a pod.
  condition: pod_exec and not ka.user.name in (trusted_users)
  output: Exec into pod (user=%ka.user.name pod=%ka.target.name command=%ka.uri.param[command])
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
"#;

fn event(user: &str, subresource: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"{user}-{subresource}","stage":"ResponseComplete","stageTimestamp":"2026-12-05T10:00:00.000000Z","requestURI":"/api/v1/namespaces/shop/pods/web-0/{subresource}?command=sh","verb":"create","user":{{"username":"{user}"}},"objectRef":{{"resource":"pods","namespace":"shop","name":"web-0","apiVersion":"v1","subresource":"{subresource}"}},"responseStatus":{{"code":101}}}}"#
    )
}

fn outputs(rules_file: &str) -> Vec<String> {
    let set = rules::load(&[("rules.yaml", rules_file)]).unwrap_or_else(|errors| panic!("{errors}"));
    let engine = Engine::new(set, Matching::All, "host".into());
    let log = [event("mallory", "exec"), event("admin", "exec"), event("mallory", "log")].join("\n");
    let mut alerts = Vec::new();
    for (position, json) in EventReader::new(&log).enumerate() {
        engine.process(&Event::new(json.unwrap(), position as u64 + 1), &mut alerts);
    }
    alerts.into_iter().map(|alert| format!("{} {} {}", alert.rule, alert.priority, alert.output)).collect()
}

#[test]
fn an_object_detects_what_the_same_rules_in_falcos_format_detect() {
    let from_object = outputs(OBJECT);
    assert_eq!(from_object, ["Exec into pod Warning 10:00:00.000000000: Warning Exec into pod (user=mallory pod=web-0 command=sh)"]);
    assert_eq!(from_object, outputs(FALCO));
}

#[test]
fn errors_and_warnings_name_the_object_and_the_rule() {
    let broken = OBJECT.replace("pod_exec and not", "pod_exec and and not").replace("      tags: [k8s]\n", "      tags: [k8s]\n      exceptions: []\n");
    let errors = rules::load(&[("rules.yaml", broken.as_str())]).err().expect("a condition that does not parse").to_string();
    assert!(errors.starts_with("rules.yaml:17:18: FalcoAuditRules pod-exec: rule 'Exec into pod': condition:"), "{errors}");
    let pruned = OBJECT.replace("      tags: [k8s]\n", "      tags: [k8s]\n      exceptions: []\n");
    let set = rules::load(&[("rules.yaml", pruned.as_str())]).unwrap();
    let warnings: Vec<String> = set.warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.iter().any(|warning| warning.starts_with("rules.yaml:22:19: FalcoAuditRules pod-exec: rule 'Exec into pod': field 'exceptions' ignored")), "{warnings:?}");
    let wrong_version = OBJECT.replace("deckhouse.io/v1alpha1", "deckhouse.io/v1");
    let errors = rules::load(&[("rules.yaml", wrong_version.as_str())]).err().expect("an apiVersion not served").to_string();
    assert_eq!(errors, "rules.yaml:1:1: FalcoAuditRules: apiVersion 'deckhouse.io/v1' is not served (deckhouse.io/v1alpha1 is)");
}
