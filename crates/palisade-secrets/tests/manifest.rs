//! Credentials in Kubernetes objects' value fields, found with gitleaks' default rules: every
//! kind of field, near misses, base64 that is not, huge and multi-line values, and redaction.
//! Every credential here is made up for these tests.

use std::time::{Duration, Instant};

use palisade_core::{Node, Object, Origin};
use palisade_secrets::manifest::{FieldKind, FieldSecret, LAST_APPLIED, default_config, default_detector, scan_fields, scan_object};

// Made-up credentials in the shapes the default rules look for.
const AWS_KEY_ID: &str = "AKIAW2Q7RZ4T6XMB3NLP";
const GITHUB_PAT: &str = "ghp_Vq8Lm3Zx7Rt2Np5Kw9Hy4Bc6Df1Gj0Sa2Ue7";
const SLACK_BOT: &str = "xoxb-4829105736-9173640285-Qz7Rw2Lk9Vm4Xp8Tn3Hb6Jc1";
const GENERIC: &str = "pQ7vL2xZ9mK4rT8wY3nB";

fn private_key() -> String {
    // Random-looking base64 lines: a key shape, not a key.
    let body = "MIIEowIBAAKCAQEAz8Rq2Lw7Vn4Tx9Kp3Hm6Yb1Jc5Gd0Fs8Ue2Wi7Ao4Zr9Nt\nQk3Lx8Vp2Rm7Tz4Wn9Hc6Yb1Jd5Gf0Ks8Ue3Qi7Ao2Zr4Nt9Mv6Xb1Lp8Rw3Tq5Y\n";
    format!("-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n")
}

fn object(json: &str) -> Object {
    let root: Node = serde_json::from_str(json).expect("test object is JSON");
    Object::new(root, Origin { file: "manifests/app.yaml".into(), document: 0, item: None })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, &b)| word | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(word >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// (pointer, field, rule) of each finding, after checking that nothing shows a secret.
fn summary(found: &[FieldSecret], secrets: &[&str]) -> Vec<(String, String, String)> {
    assert_no_secret(found, secrets);
    found.iter().map(|f| (f.pointer.clone(), f.field.clone(), f.rule_id.clone())).collect()
}

fn description(rule_id: &str) -> &'static str {
    &default_config().rule(rule_id).expect("a built-in rule").description
}

/// No output string (fields, messages, the debug form) holds any of the secrets, or more of
/// one than its first four bytes.
fn assert_no_secret(found: &[FieldSecret], secrets: &[&str]) {
    let mut outputs: Vec<String> = found.iter().map(|f| f.message(description(&f.rule_id))).collect();
    outputs.push(format!("{found:?}"));
    for output in &outputs {
        for secret in secrets {
            for window in secret.as_bytes().windows(8) {
                let window = std::str::from_utf8(window).unwrap();
                assert!(!output.contains(window), "{window:?} of a secret in {output}");
            }
        }
    }
}

#[test]
fn secret_data_is_decoded_and_string_data_scanned_as_written() {
    let secret = object(&format!(
        r#"{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "s"}},
            "data": {{"aws": "{}", "pem": "{}", "plain": "{GITHUB_PAT}", "level": "{}"}},
            "stringData": {{"db-password": "{GENERIC}", "weak-password": "hunter2hunter2"}}}}"#,
        base64(AWS_KEY_ID.as_bytes()),
        base64(private_key().as_bytes()),
        base64(b"debug"),
    ));
    let found = scan_object(default_detector(), &secret);
    assert_eq!(
        summary(&found, &[AWS_KEY_ID, GITHUB_PAT, GENERIC, &private_key()[32..]]),
        [
            ("/data/aws".into(), r#"data["aws"]"#.into(), "aws-access-token".into()),
            ("/data/pem".into(), r#"data["pem"]"#.into(), "private-key".into()),
            // `ghp_…` has `_`: not base64, so scanned as written.
            ("/data/plain".into(), r#"data["plain"]"#.into(), "github-pat".into()),
            ("/stringData/db-password".into(), r#"stringData["db-password"]"#.into(), "generic-api-key".into()),
        ]
    );
    assert!(found.iter().all(|f| f.kind == if f.pointer.starts_with("/data") { FieldKind::SecretData } else { FieldKind::SecretStringData }));
    assert_eq!(found[0].redacted, "AKIA… (20 bytes)");
    assert_eq!(found[0].line_in_value, None, "decoded");
    assert_eq!(found[2].line_in_value, Some(0), "as written");
    assert_eq!(found[3].redacted_match, "db-password: REDACTED");
    assert_eq!(
        found[0].message(description("aws-access-token")),
        r#"data["aws"] holds a secret: Identified a pattern that may indicate AWS credentials (gitleaks rule aws-access-token): AKIA… (20 bytes)"#
    );
}

#[test]
fn invalid_base64_in_secret_data_is_scanned_as_is() {
    // The API server would refuse both values; the file still leaks. A space is not base64:
    // the text is scanned as written.
    let spaced = object(&format!(r#"{{"apiVersion": "v1", "kind": "Secret", "data": {{"k": "id {AWS_KEY_ID}"}}}}"#));
    let found = scan_object(default_detector(), &spaced);
    assert_eq!(summary(&found, &[AWS_KEY_ID]), [("/data/k".into(), r#"data["k"]"#.into(), "aws-access-token".into())]);
    assert_eq!((found[0].line_in_value, found[0].redacted_match.as_str()), (Some(0), "REDACTED"));
    // Unpadded base64 is not what the API server decodes, so the detector sees the encoded
    // text and finds the key in its own decoding pass, as gitleaks would in the file (which
    // decodes only segments with a digit or one of `+/-_`).
    let unpadded = base64(format!("k={AWS_KEY_ID}").as_bytes()).trim_end_matches('=').to_owned();
    assert!(unpadded.len() % 4 != 0 && unpadded.bytes().any(|b| b.is_ascii_digit()), "{unpadded}");
    let secret = object(&format!(r#"{{"apiVersion": "v1", "kind": "Secret", "data": {{"k": "{unpadded}"}}}}"#));
    let found = scan_object(default_detector(), &secret);
    assert_eq!(summary(&found, &[AWS_KEY_ID]), [("/data/k".into(), r#"data["k"]"#.into(), "aws-access-token".into())]);
    assert!(found[0].tags.contains(&"decoded:base64".to_owned()), "{:?}", found[0].tags);
    assert_eq!(found[0].redacted_match, "REDACTED");
    assert!(found[0].message(description("aws-access-token")).ends_with("AKIA… (20 bytes), after decoding base64"));
}

#[test]
fn config_map_data_and_binary_data_keep_lines_and_context() {
    let config = format!("log_level = debug\nuser = app\napi_key = {GENERIC}\n");
    let map = object(&format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "c"}},
            "data": {{"app.ini": {}, "mode": "{GENERIC}", "token": "{GENERIC}", "weak.password": "hunter2hunter2",
                      "ref": "$(DB_PASSWORD)", "short": "AKIA-short", "port": 5432}},
            "binaryData": {{"tls.key": "{}", "blob": "{}"}}}}"#,
        serde_json::to_string(&config).unwrap(),
        base64(private_key().as_bytes()),
        base64(&[0, 159, 146, 150, 255, 0]),
    ));
    let found = scan_object(default_detector(), &map);
    assert_eq!(
        summary(&found, &[GENERIC, &private_key()[32..]]),
        [
            ("/data/app.ini".into(), r#"data["app.ini"]"#.into(), "generic-api-key".into()),
            // The same value under `mode` is not flagged: the generic rule needs a credential's name.
            ("/data/token".into(), r#"data["token"]"#.into(), "generic-api-key".into()),
            ("/binaryData/tls.key".into(), r#"binaryData["tls.key"]"#.into(), "private-key".into()),
        ]
    );
    assert_eq!(found[0].line_in_value, Some(2));
    assert_eq!(found[0].redacted_match, "api_key = REDACTED");
    assert_eq!([found[0].kind, found[2].kind], [FieldKind::ConfigMapData, FieldKind::ConfigMapBinaryData]);
}

#[test]
fn a_multi_line_private_key_is_found_in_a_config_map_value() {
    let map = object(&format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap", "data": {{"intro": "first line\nsecond line", "tls.key": {}}}}}"#,
        serde_json::to_string(&private_key()).unwrap()
    ));
    let found = scan_object(default_detector(), &map);
    assert_eq!(summary(&found, &[&private_key()[32..]]), [("/data/tls.key".into(), r#"data["tls.key"]"#.into(), "private-key".into())]);
    assert_eq!(found[0].line_in_value, Some(0));
    assert_eq!(found[0].redacted, format!("----… ({} bytes)", private_key().trim_end().len()));
}

#[test]
fn env_values_of_every_container_kind_and_pod_kind() {
    let containers = format!(
        r#""initContainers": [{{"name": "setup", "env": [{{"name": "GITHUB_TOKEN", "value": "{GITHUB_PAT}"}}]}}],
           "containers": [{{"name": "app", "env": [
               {{"name": "MODE", "value": "{GENERIC}"}},
               {{"name": "DB_PASSWORD", "valueFrom": {{"secretKeyRef": {{"name": "db", "key": "password"}}}}}},
               {{"name": "WEAK_PASSWORD", "value": "hunter2hunter2"}},
               {{"name": "API_KEY", "value": "{GENERIC}"}}]}}],
           "ephemeralContainers": [{{"name": "debug", "env": [{{"name": "SLACK", "value": "{SLACK_BOT}"}}]}}]"#
    );
    let expected = |spec: &str| -> Vec<(String, String, String)> {
        vec![
            (format!("{spec}/initContainers/0/env/0/value"), r#"container "setup" env "GITHUB_TOKEN""#.into(), "github-pat".into()),
            (format!("{spec}/containers/0/env/3/value"), r#"container "app" env "API_KEY""#.into(), "generic-api-key".into()),
            (format!("{spec}/ephemeralContainers/0/env/0/value"), r#"container "debug" env "SLACK""#.into(), "slack-bot-token".into()),
        ]
    };
    let secrets = [GITHUB_PAT, GENERIC, SLACK_BOT];
    let pod = object(&format!(r#"{{"apiVersion": "v1", "kind": "Pod", "spec": {{{containers}}}}}"#));
    assert_eq!(summary(&scan_object(default_detector(), &pod), &secrets), expected("/spec"));
    let deployment = object(&format!(r#"{{"apiVersion": "apps/v1", "kind": "Deployment", "spec": {{"template": {{"spec": {{{containers}}}}}}}}}"#));
    assert_eq!(summary(&scan_object(default_detector(), &deployment), &secrets), expected("/spec/template/spec"));
    let cron = object(&format!(
        r#"{{"apiVersion": "batch/v1", "kind": "CronJob", "spec": {{"jobTemplate": {{"spec": {{"template": {{"spec": {{{containers}}}}}}}}}}}}}"#
    ));
    let found = scan_object(default_detector(), &cron);
    assert_eq!(summary(&found, &secrets), expected("/spec/jobTemplate/spec/template/spec"));
    assert!(found.iter().all(|f| f.kind == FieldKind::ContainerEnv && f.line_in_value == Some(0)));
    // Not a pod-creating kind: its `containers` are not a pod's.
    let custom = object(&format!(r#"{{"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {{"template": {{"spec": {{{containers}}}}}}}}}"#));
    assert_eq!(scan_object(default_detector(), &custom), []);
}

#[test]
fn annotations_and_the_last_applied_copy() {
    let applied = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"aws": base64(AWS_KEY_ID.as_bytes())},
    })
    .to_string();
    let secret = object(
        &serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {"ci/notify": SLACK_BOT, "owner": "team-a", LAST_APPLIED: applied}},
            "data": {"aws": base64(AWS_KEY_ID.as_bytes())},
        })
        .to_string(),
    );
    let found = scan_object(default_detector(), &secret);
    assert_eq!(
        summary(&found, &[AWS_KEY_ID, SLACK_BOT]),
        [
            ("/data/aws".into(), r#"data["aws"]"#.into(), "aws-access-token".into()),
            ("/metadata/annotations/ci~1notify".into(), r#"annotation "ci/notify""#.into(), "slack-bot-token".into()),
            (
                "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration".into(),
                format!(r#"annotation "{LAST_APPLIED}" (its copy of data["aws"])"#),
                "aws-access-token".into()
            ),
        ]
    );
    assert_eq!(found.iter().map(|f| f.kind).collect::<Vec<_>>(), [FieldKind::SecretData, FieldKind::Annotation, FieldKind::Annotation]);
    assert_eq!(found[2].line_in_value, None);

    // A scan of Secret data alone leaves the annotations, copy included.
    let data_only = scan_fields(default_detector(), &secret, &[FieldKind::SecretData]);
    assert_eq!(data_only.iter().map(|f| f.pointer.as_str()).collect::<Vec<_>>(), ["/data/aws"]);
}

#[test]
fn last_applied_copy_of_a_deployment_and_text_that_is_not_json() {
    let applied = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "API_KEY", "value": GENERIC}]}]}}},
    })
    .to_string();
    let deployment = object(
        &serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"annotations": {LAST_APPLIED: applied}},
            "spec": {"template": {
                "metadata": {"annotations": {"vault/token": GITHUB_PAT}},
                "spec": {"containers": [{"name": "app", "env": [{"name": "API_KEY", "value": GENERIC}]}]}}},
        })
        .to_string(),
    );
    let found = scan_object(default_detector(), &deployment);
    assert_eq!(
        summary(&found, &[GENERIC, GITHUB_PAT]),
        [
            ("/spec/template/spec/containers/0/env/0/value".into(), r#"container "app" env "API_KEY""#.into(), "generic-api-key".into()),
            (
                "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration".into(),
                format!(r#"annotation "{LAST_APPLIED}" (its copy of container "app" env "API_KEY")"#),
                "generic-api-key".into()
            ),
            ("/spec/template/metadata/annotations/vault~1token".into(), r#"pod template annotation "vault/token""#.into(), "github-pat".into()),
        ]
    );

    let broken = object(
        &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"annotations": {LAST_APPLIED: format!("{{\"token\": \"{GITHUB_PAT}\"")}}})
            .to_string(),
    );
    let found = scan_object(default_detector(), &broken);
    assert_eq!(summary(&found, &[GITHUB_PAT]), [(
        "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration".into(),
        format!(r#"annotation "{LAST_APPLIED}""#),
        "github-pat".into()
    )]);
    assert_eq!(found[0].line_in_value, Some(0));
}

#[test]
fn each_finding_belongs_to_its_own_field() {
    let map = object(&format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap", "data": {{"a": "x", "b": "{GITHUB_PAT}", "c": "y", "d": "two\nlines {AWS_KEY_ID}", "e": "z"}}}}"#
    ));
    let found = scan_object(default_detector(), &map);
    assert_eq!(
        summary(&found, &[GITHUB_PAT, AWS_KEY_ID]),
        [
            ("/data/b".into(), r#"data["b"]"#.into(), "github-pat".into()),
            ("/data/d".into(), r#"data["d"]"#.into(), "aws-access-token".into()),
        ]
    );
    assert_eq!(found[1].line_in_value, Some(1));
}

#[test]
fn gitleaks_allow_and_rule_allowlists_hold_in_values() {
    let map = object(&format!(
        r#"{{"apiVersion": "v1", "kind": "ConfigMap", "data": {{"a": "{GITHUB_PAT} # gitleaks:allow", "b": "AKIAW2Q7RZ4T6XEXAMPLE"}}}}"#
    ));
    assert_eq!(scan_object(default_detector(), &map), []);
}

#[test]
fn other_kinds_and_empty_objects_have_nothing() {
    for json in [
        format!(r#"{{"apiVersion": "v1", "kind": "Service", "spec": {{"data": {{"token": "{GITHUB_PAT}"}}}}}}"#),
        format!(r#"{{"apiVersion": "example.com/v1", "kind": "ConfigMap", "data": {{"token": "{GITHUB_PAT}"}}}}"#),
        r#"{"apiVersion": "v1", "kind": "ConfigMap"}"#.to_owned(),
        r#"{"apiVersion": "v1", "kind": "Secret", "data": null, "metadata": {"annotations": null}}"#.to_owned(),
        "[]".to_owned(),
    ] {
        assert_eq!(scan_object(default_detector(), &object(&json)), [], "{json}");
    }
}

#[test]
fn huge_values_are_scanned_whole_in_bounded_time() {
    // 4 MiB of configuration lines, with the secret at the very end; and 4 MiB of one base64
    // run, the decoder's worst case, before another.
    let filler = "setting_number = some-plain-value\n".repeat(4 << 20 >> 5);
    let config = format!("{filler}api_key = {GENERIC}");
    let run = "QUFB".repeat(1 << 20);
    let map = object(
        &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"big.ini": config, "blob": format!("{run} {GITHUB_PAT}")}}).to_string(),
    );
    let started = Instant::now();
    let found = scan_object(default_detector(), &map);
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    assert_eq!(
        summary(&found, &[GENERIC, GITHUB_PAT]),
        [
            ("/data/big.ini".into(), r#"data["big.ini"]"#.into(), "generic-api-key".into()),
            ("/data/blob".into(), r#"data["blob"]"#.into(), "github-pat".into()),
        ]
    );
    assert_eq!(found[0].line_in_value, Some(filler.lines().count()));
}
