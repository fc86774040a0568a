//! Templates that join the review with the inventory on a key are judged against an index of
//! the inventory: the verdicts must be those of the whole inventory.

use std::path::PathBuf;

use palisade_gatekeeper::{Template, review};
use serde_json::{Value, json};

fn library_template(name: &str) -> Template {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gatekeeper-library/library/general").join(name).join("template.yaml");
    let loaded = palisade_load::load_str(&std::fs::read_to_string(&path).unwrap(), "template.yaml");
    Template::parse(&loaded.objects[0]).unwrap()
}

#[test]
fn the_library_uniqueness_templates_are_indexed_and_the_other_inventory_templates_are_not() {
    for name in ["uniqueingresshost", "uniqueserviceselector"] {
        assert!(library_template(name).indexes_inventory(), "{name}");
    }
    // Lookups by namespace and name, or more than one reference to the inventory.
    for name in ["poddisruptionbudget", "storageclass", "horizontalpodautoscaler"] {
        let template = library_template(name);
        assert!(template.uses_inventory() && !template.indexes_inventory(), "{name}");
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn objects(random: &mut Random) -> Vec<Value> {
    let mut objects = Vec::new();
    for n in 0..240 {
        let namespace = format!("ns{}", random.below(4));
        let name = format!("o{}", random.below(60));
        match random.below(5) {
            0 | 1 => {
                let rules: Vec<Value> = (0..random.below(4))
                    .map(|_| if random.below(6) == 0 { json!({"http": {}}) } else { json!({"host": format!("h{}.example.com", random.below(25))}) })
                    .collect();
                let version = ["networking.k8s.io/v1", "extensions/v1beta1", "example.com/v1"][random.below(3) as usize];
                objects.push(json!({"apiVersion": version, "kind": "Ingress", "metadata": {"name": name, "namespace": namespace}, "spec": {"rules": rules}}));
            }
            2 | 3 => {
                let mut selector = serde_json::Map::new();
                for label in ["app", "tier", "team"] {
                    if random.below(2) == 0 {
                        selector.insert(label.into(), json!(format!("v{}", random.below(3))));
                    }
                }
                let spec = if random.below(8) == 0 { json!({}) } else { json!({"selector": selector}) };
                objects.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}));
            }
            _ => objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{n}"), "namespace": namespace}, "spec": {"rules": [{"host": "h1.example.com"}], "selector": {"app": "v1"}}})),
        }
    }
    objects
}

fn messages(evaluator: &palisade_gatekeeper::Evaluator, object: &Value) -> Vec<String> {
    let input = review::input(&review::of_object(object), None);
    let mut messages: Vec<String> = evaluator.evaluate(&input).unwrap().into_iter().map(|violation| violation.message).collect();
    messages.sort();
    messages
}

#[test]
fn indexed_verdicts_equal_the_verdicts_against_the_whole_inventory() {
    for name in ["uniqueingresshost", "uniqueserviceselector"] {
        let template = library_template(name);
        for seed in 1..=3 {
            let objects = objects(&mut Random(seed));
            let inventory = review::inventory(&objects);
            let indexed = template.evaluator(Some(&inventory)).unwrap();
            let whole = template.evaluator_without_index(Some(&inventory)).unwrap();
            let mut violations = 0;
            for object in &objects {
                let expected = messages(&whole, object);
                violations += expected.len();
                assert_eq!(messages(&indexed, object), expected, "{name}, seed {seed}, {object}");
            }
            assert!(violations > 10, "{name}, seed {seed}: the objects should conflict often ({violations} violations)");
        }
    }
}

fn template_with(rego: &str) -> Template {
    let indented: String = rego.lines().map(|line| format!("      {line}\n")).collect();
    let text = format!(
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: joins}}\nspec:\n  crd: {{spec: {{names: {{kind: Joins}}}}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n{indented}"
    );
    let loaded = palisade_load::load_str(&text, "template.yaml");
    let template = Template::parse(&loaded.objects[0]).unwrap();
    assert!(template.unsupported().is_none(), "{:?}", template.unsupported());
    template
}

#[test]
fn only_a_join_whose_equality_must_hold_is_indexed() {
    let join = |body: &str, extra: &str| template_with(&format!("package joins\n{extra}\nviolation[{{\"msg\": \"conflict\"}}] {{\n{body}\n}}\n"));
    // The shape, directly and through assignments.
    assert!(join("other := data.inventory.namespace[_][_][\"Ingress\"][_]\nother.spec.host == input.review.object.spec.host", "").indexes_inventory());
    assert!(join("obj := input.review.object\nkey := lower(obj.spec.host)\nother := data.inventory.cluster[_][_][_]\nlower(other.spec.host) == key", "").indexes_inventory());
    assert!(join("other := data.inventory.cluster[_][_][_]\nk(other) == k(input.review.object)", "k(o) = v { v := concat(\",\", [o.a, o.b]) }").indexes_inventory());
    // Not the shape: the equality may fail without excluding the object.
    assert!(!join("other := data.inventory.cluster[_][_][_]\nnot other.spec.host == input.review.object.spec.host", "").indexes_inventory());
    assert!(!join("other := data.inventory.cluster[_][_][_]\nother.spec.host != input.review.object.spec.host", "").indexes_inventory());
    // Different keys on the two sides, or a key that is not the review object's.
    assert!(!join("other := data.inventory.cluster[_][_][_]\nother.spec.host == input.review.object.spec.name", "").indexes_inventory());
    assert!(!join("other := data.inventory.cluster[_][_][_]\nother.spec.host == input.parameters.host", "").indexes_inventory());
    // A function that reads `input`, or a built-in whose result is not a function of its arguments.
    assert!(!join("other := data.inventory.cluster[_][_][_]\nk(other) == k(input.review.object)", "k(o) = v { v := concat(\",\", [o.a, input.parameters.b]) }").indexes_inventory());
    assert!(!join("other := data.inventory.cluster[_][_][_]\nconcat(\"\", [other.a, uuid.rfc4122(\"x\")]) == concat(\"\", [input.review.object.a, uuid.rfc4122(\"x\")])", "").indexes_inventory());
    // Something else reads the inventory: a second reference, a `with`, a dynamic `data[...]`.
    let key = "other := data.inventory.cluster[_][_][_]\nother.a == input.review.object.a";
    assert!(!join(key, "n { count(data.inventory.cluster) > 1 }").indexes_inventory());
    assert!(!join(&format!("{key}\nx := data.joins.n with data.inventory as {{}}"), "n = 1 { true }").indexes_inventory());
    assert!(!join(&format!("{key}\nroot := \"inventory\"\ndata[root]"), "").indexes_inventory());
    // The review's part of the inventory travels in `input`: a template that reads `input`
    // beyond `review` and `parameters` would see it.
    assert!(!join(&format!("{key}\ncount(input) > 0"), "").indexes_inventory());
    assert!(!join(&format!("{key}\nfield := \"review\"\ninput[field]"), "").indexes_inventory());
}
