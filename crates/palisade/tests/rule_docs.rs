//! `docs/rules/` is generated from the rule catalog, the same source `palisade explain` prints;
//! this test fails when the two drift. Regenerate with:
//! `UPDATE_RULE_DOCS=1 cargo test -p palisade --test rule_docs`.

use std::path::Path;

#[test]
fn rule_docs_match_the_catalog() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let update = std::env::var_os("UPDATE_RULE_DOCS").is_some_and(|v| v == "1");
    let metas = palisade_policy::catalog_metas();
    assert!(!metas.is_empty());
    let changed = palisade_report::generate_rule_docs(&metas, &dir, !update).unwrap();
    assert!(
        update || changed.is_empty(),
        "docs/rules is out of date for {changed:?}; run UPDATE_RULE_DOCS=1 cargo test -p palisade --test rule_docs"
    );
}

#[test]
fn explain_prints_the_generated_page() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["explain", "pss/privileged"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let meta = palisade_policy::catalog_metas().into_iter().find(|m| m.id == "pss/privileged").unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), palisade_report::render_rule_doc(meta));
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["explain", "privileg"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("did you mean") && stderr.contains("pss/privileged"), "{stderr}");
}
