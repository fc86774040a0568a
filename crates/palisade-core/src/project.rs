//! Keeping only some fields of an object, positions intact, so a cross-object analysis can hold
//! what it needs from 100k objects without holding the objects.

use crate::object::Object;
use crate::value::{Map, Node, Value};

/// A copy of `object` with only the fields on `paths`. A path is a list of mapping keys; `*`
/// steps into every item of a sequence, keeping indices (and so JSON pointers) unchanged.
/// Every kept node keeps its source position.
pub fn project(object: &Object, paths: &[&[&str]]) -> Object {
    let paths: Vec<&[&str]> = paths.to_vec();
    Object::new(project_node(&object.root, &paths), object.origin.clone())
}

fn project_node(node: &Node, paths: &[&[&str]]) -> Node {
    if paths.iter().any(|path| path.is_empty()) {
        return node.clone();
    }
    let value = match &node.value {
        Value::Map(map) => {
            let mut kept = Map::new();
            for entry in map.entries() {
                let tails = tails_for(paths, |token| token == &*entry.key);
                if !tails.is_empty() {
                    kept.insert(entry.key.clone(), entry.key_mark, project_node(&entry.value, &tails));
                }
            }
            Value::Map(kept)
        }
        Value::Seq(items) => {
            let tails = tails_for(paths, |token| token == "*");
            if tails.is_empty() {
                return Node::new(Value::Seq(Vec::new()), node.mark);
            }
            Value::Seq(items.iter().map(|item| project_node(item, &tails)).collect())
        }
        // A scalar where a mapping was expected: keep it, so checks still see what was written.
        scalar => scalar.clone(),
    };
    Node::new(value, node.mark)
}

fn tails_for<'p>(paths: &[&'p [&'p str]], accepts: impl Fn(&str) -> bool) -> Vec<&'p [&'p str]> {
    paths
        .iter()
        .filter(|path| accepts(path[0]))
        .map(|path| &path[1..])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mark, Origin};
    use serde_json::json;

    #[test]
    fn keeps_listed_fields_and_sequence_indices() {
        let root = Node::from_json(&json!({
            "kind": "Pod",
            "metadata": {"name": "a", "annotations": {"big": "x"}},
            "spec": {"containers": [
                {"name": "one", "image": "i", "ports": [{"containerPort": 80}]},
                {"name": "two", "image": "j"}
            ]}
        }));
        let object = Object::new(root, Origin { file: "f.yaml".into(), document: 0, item: None });
        let kept = project(&object, &[&["kind"], &["metadata", "name"], &["spec", "containers", "*", "ports"]]);
        assert_eq!(
            kept.root.to_json(),
            json!({"kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": [
                {"ports": [{"containerPort": 80}]}, {}
            ]}})
        );
        assert_eq!(kept.origin, object.origin);
    }

    #[test]
    fn keeps_positions() {
        let mut inner = Map::new();
        inner.insert("name".into(), Mark::new(3, 3), Node::new(Value::Str("a".into()), Mark::new(3, 9)));
        let mut root = Map::new();
        root.insert("metadata".into(), Mark::new(2, 1), Node::new(Value::Map(inner), Mark::new(3, 3)));
        let object = Object::new(
            Node::new(Value::Map(root), Mark::new(1, 1)),
            Origin { file: "f.yaml".into(), document: 0, item: None },
        );
        let kept = project(&object, &[&["metadata", "name"]]);
        assert_eq!(kept.locate("/metadata/name"), Mark::new(3, 9));
    }
}
