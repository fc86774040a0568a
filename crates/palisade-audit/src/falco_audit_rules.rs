//! Deckhouse's `FalcoAuditRules` (`deckhouse.io/v1alpha1`, cluster-scoped): Falco lists, macros
//! and rules as a Kubernetes resource. Each object becomes the Falco items Deckhouse's
//! rules-loader writes for it (`images/rules-loader/.../convert.py` in deckhouse/deckhouse):
//! `requiredEngineVersion` and `requiredK8sAuditPluginVersion` become `required_engine_version`
//! and a `k8saudit` entry of `required_plugin_versions`; `rule: {name, ...}` becomes
//! `- rule: name` with the other fields as written and the source in Falco's spelling
//! (`K8sAudit` is `k8s_audit`; the schema's default, `Syscall`, when none is given);
//! `macro: {name, condition}` and `list: {name, items}` become `- macro:` and `- list:`.
//! Fields outside the CRD's schema are reported and left out, as the API server prunes them.

use palisade_core::{Map, Mark, Node, Value};

/// A field the API server would prune, with the item it was in.
pub struct Pruned<'a> {
    pub node: &'a Node,
    pub item: String,
    pub field: String,
}

/// One object's Falco items.
pub struct Converted<'a> {
    pub name: String,
    pub items: Vec<Node>,
    pub pruned: Vec<Pruned<'a>>,
}

const API_GROUP: &str = "deckhouse.io/";
const KIND: &str = "FalcoAuditRules";
const RULE_FIELDS: [&str; 8] = ["name", "condition", "desc", "output", "priority", "enabled", "tags", "source"];
const MACRO_FIELDS: [&str; 2] = ["name", "condition"];
const LIST_FIELDS: [&str; 2] = ["name", "items"];

fn kind_of(node: &Node) -> (&str, &str) {
    (node.get("apiVersion").and_then(Node::as_str).unwrap_or_default(), node.get("kind").and_then(Node::as_str).unwrap_or_default())
}

/// Whether a YAML document is a FalcoAuditRules object, or a list of them (`kubectl get -o yaml`).
pub fn is_object(root: &Node) -> bool {
    match kind_of(root) {
        (api_version, KIND) => api_version.starts_with(API_GROUP),
        ("v1", "List") | (_, "FalcoAuditRulesList") => {
            let items = root.get("items").map(Node::as_seq).unwrap_or_default();
            !items.is_empty() && items.iter().all(|item| kind_of(item).1 == KIND)
        }
        _ => false,
    }
}

/// The objects of a document that [`is_object`].
pub fn objects(root: &Node) -> Vec<&Node> {
    match root.get("items") {
        Some(items) if kind_of(root).1 != KIND => items.as_seq().iter().collect(),
        _ => vec![root],
    }
}

/// The Falco items of one FalcoAuditRules object; an error says why it is not one the API
/// server would accept.
pub fn to_falco(object: &Node) -> Result<Converted<'_>, String> {
    let (api_version, _) = kind_of(object);
    if api_version != "deckhouse.io/v1alpha1" {
        return Err(format!("FalcoAuditRules: apiVersion '{api_version}' is not served (deckhouse.io/v1alpha1 is)"));
    }
    let name = object.path(&["metadata", "name"]).and_then(Node::as_str).ok_or("FalcoAuditRules: no metadata.name")?.to_owned();
    let spec = object.get("spec").ok_or_else(|| format!("FalcoAuditRules {name}: no spec"))?;
    let Some(Value::Seq(rules)) = spec.get("rules").map(|rules| &rules.value) else {
        return Err(format!("FalcoAuditRules {name}: spec.rules must be a list"));
    };
    let mut converted = Converted { name, items: Vec::new(), pruned: Vec::new() };
    if let Some(version) = spec.get("requiredEngineVersion") {
        converted.items.push(map(version.mark, [("required_engine_version", version.clone())]));
    }
    if let Some(version) = spec.get("requiredK8sAuditPluginVersion") {
        let plugin = map(version.mark, [("name", string(version.mark, "k8saudit")), ("version", version.clone())]);
        converted.items.push(map(version.mark, [("required_plugin_versions", Node { value: Value::Seq(vec![plugin]), mark: version.mark })]));
    }
    for (index, entry) in rules.iter().enumerate() {
        let present: Vec<&str> = ["rule", "macro", "list"].into_iter().filter(|kind| entry.get(kind).is_some_and(|node| !node.is_null())).collect();
        let [kind] = present[..] else {
            return Err(format!("FalcoAuditRules {}: spec.rules[{index}] must hold exactly one of rule, macro or list", converted.name));
        };
        let Some(fields) = entry.get(kind).and_then(Node::as_map) else {
            return Err(format!("FalcoAuditRules {}: spec.rules[{index}].{kind} must be a mapping", converted.name));
        };
        let item_name = fields.get("name").and_then(Node::as_str).unwrap_or_default();
        let known: &[&str] = match kind {
            "rule" => &RULE_FIELDS,
            "macro" => &MACRO_FIELDS,
            _ => &LIST_FIELDS,
        };
        let mut item = Map::new();
        for entry in fields.entries() {
            let key = &*entry.key;
            if !known.contains(&key) {
                converted.pruned.push(Pruned { node: &entry.value, item: format!("{kind} '{item_name}'"), field: key.to_owned() });
                continue;
            }
            let value = match (kind, key) {
                ("rule", "source") => source(&entry.value).map_err(|message| format!("FalcoAuditRules {}: rule '{item_name}': {message}", converted.name))?,
                _ => entry.value.clone(),
            };
            // `name` names the item under its kind's key, first, as Falco files write it.
            let key = if key == "name" { kind } else { key };
            item.insert(key.into(), entry.key_mark, value);
        }
        if kind == "rule" && fields.get("source").is_none() {
            item.insert("source".into(), Mark::default(), string(entry.mark, "syscall"));
        }
        converted.items.push(Node { value: Value::Map(item), mark: entry.get(kind).map_or(entry.mark, |node| node.mark) });
    }
    Ok(converted)
}

/// The CRD's `Syscall` and `K8sAudit` in Falco's spelling.
fn source(node: &Node) -> Result<Node, String> {
    let spelled = match node.as_str() {
        Some("K8sAudit") => "k8s_audit",
        Some("Syscall") => "syscall",
        _ => return Err(format!("source must be K8sAudit or Syscall, not {}", node.to_json())),
    };
    Ok(string(node.mark, spelled))
}

fn string(mark: Mark, text: &str) -> Node {
    Node { value: Value::Str(text.into()), mark }
}

fn map<const N: usize>(mark: Mark, entries: [(&str, Node); N]) -> Node {
    let mut map = Map::new();
    for (key, value) in entries {
        map.insert(key.into(), mark, value);
    }
    Node { value: Value::Map(map), mark }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(text: &str) -> Vec<Node> {
        palisade_load::yaml::parse_documents(text, &palisade_load::yaml::Limits::default()).into_iter().map(|document| document.result.unwrap()).collect()
    }

    #[test]
    fn items_convert_as_deckhouses_rules_loader_converts_them() {
        let [object] = &documents(
            "apiVersion: deckhouse.io/v1alpha1\nkind: FalcoAuditRules\nmetadata:\n  name: exec\nspec:\n  requiredEngineVersion: 15\n  requiredK8sAuditPluginVersion: 0.1.0\n  rules:\n  - macro:\n      name: kcreate\n      condition: ka.verb=create\n  - list:\n      name: admins\n      items: [alice, 7]\n  - rule:\n      name: Exec\n      desc: d\n      condition: kcreate and ka.user.name in (admins)\n      output: o %ka.user.name\n      priority: Warning\n      source: K8sAudit\n      append: true\n  - rule:\n      name: Syscall rule\n      desc: d\n      condition: evt.type=open\n      output: o\n      priority: Error\n",
        )[..] else { panic!("one document") };
        assert!(is_object(object));
        let converted = to_falco(object).unwrap();
        let json: Vec<serde_json::Value> = converted.items.iter().map(Node::to_json).collect();
        assert_eq!(
            serde_json::Value::from(json),
            serde_json::json!([
                {"required_engine_version": 15},
                {"required_plugin_versions": [{"name": "k8saudit", "version": "0.1.0"}]},
                {"macro": "kcreate", "condition": "ka.verb=create"},
                {"list": "admins", "items": ["alice", 7]},
                {"rule": "Exec", "desc": "d", "condition": "kcreate and ka.user.name in (admins)", "output": "o %ka.user.name", "priority": "Warning", "source": "k8s_audit"},
                {"rule": "Syscall rule", "desc": "d", "condition": "evt.type=open", "output": "o", "priority": "Error", "source": "syscall"}
            ])
        );
        assert_eq!(converted.pruned.iter().map(|pruned| (pruned.item.as_str(), pruned.field.as_str())).collect::<Vec<_>>(), [("rule 'Exec'", "append")]);
    }

    #[test]
    fn lists_of_objects_and_what_the_api_server_refuses() {
        let [list] = &documents("apiVersion: v1\nkind: List\nitems:\n- apiVersion: deckhouse.io/v1alpha1\n  kind: FalcoAuditRules\n  metadata: {name: a}\n  spec: {rules: []}\n- apiVersion: deckhouse.io/v1alpha1\n  kind: FalcoAuditRules\n  metadata: {name: b}\n  spec: {rules: [{macro: {name: m, condition: c}, list: {name: l, items: []}}]}\n")[..] else { panic!() };
        assert!(is_object(list));
        let objects = objects(list);
        assert_eq!(objects.len(), 2);
        assert!(to_falco(objects[0]).unwrap().items.is_empty());
        assert_eq!(to_falco(objects[1]).err().unwrap(), "FalcoAuditRules b: spec.rules[0] must hold exactly one of rule, macro or list");
        let [falco_file] = &documents("- rule: R\n  condition: ka.verb=get\n")[..] else { panic!() };
        assert!(!is_object(falco_file));
        let [bad_source] = &documents("apiVersion: deckhouse.io/v1alpha1\nkind: FalcoAuditRules\nmetadata: {name: s}\nspec: {rules: [{rule: {name: R, source: k8s_audit}}]}\n")[..] else { panic!() };
        assert_eq!(to_falco(bad_source).err().unwrap(), "FalcoAuditRules s: rule 'R': source must be K8sAudit or Syscall, not \"k8s_audit\"");
    }
}
