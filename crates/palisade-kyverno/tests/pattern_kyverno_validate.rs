//! Kyverno's own tests of `validate.pattern`, ported: the fixtures and expected outcomes of
//! kyverno/kyverno commit 111e07bbecc66abfde36ab99969af22d7a961003,
//! `pkg/engine/validate/validate_test.go`, and the pattern rules of `pkg/engine/validation_test.go`
//! and `pkg/webhooks/resource/validation_test.go` (Apache-2.0, the Kyverno authors).
//!
//! Go tests that call `validateResourceElement` or `validateMap` directly are checked through
//! `match_pattern`, which reports the same path unless a skip, a negation or a missing anchor key
//! is involved (none is in those cases). Patterns that the Go test first passes through
//! `variables.SubstituteAll` are given already substituted, as the engine hands them over:
//! `$(<=./../../limits/memory)` is `<=2048Mi`, `$(/metadata/labels/app)` is `nirmata*`.
//! Where the Go table expects "fail" without checking it (its helper asserts only pass and
//! skip), the port asserts the failure.

use palisade_kyverno::pattern::{match_pattern, Outcome};
use serde_json::Value;
use Expected::*;

#[derive(Debug, Clone, Copy)]
enum Expected {
    Pass,
    Skip,
    Fail,
    FailAt(&'static str),
}

type Case = (&'static str, &'static str, &'static str, Expected);

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture is not JSON ({e}): {text}"))
}

/// Runs every case and reports all that disagree at once.
fn check_all(cases: &[Case]) {
    let disagreements: Vec<String> = cases
        .iter()
        .filter_map(|&(name, pattern, resource, expected)| {
            let outcome = match_pattern(&json(resource), &json(pattern));
            let agrees = match (expected, &outcome) {
                (Pass, Outcome::Pass) | (Skip, Outcome::Skip(_)) | (Fail, Outcome::Fail(_)) => true,
                (FailAt(path), Outcome::Fail(failure)) => failure.path == path,
                _ => false,
            };
            (!agrees).then(|| format!("{name}: expected {expected:?}, got {outcome:?}"))
        })
        .collect();
    assert!(disagreements.is_empty(), "{} of {} cases disagree:\n{}", disagreements.len(), cases.len(), disagreements.join("\n"));
}

/// The single-case tests (`TestValidateMap*`, `TestValidateMapElement*`), by Go test name.
#[test]
fn single_case_tests() {
    let cases: &[Case] = &[
        (
            "TestValidateMap",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"?*","resources":{"requests":{"cpu":"<4|8"}}}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"securityContext":{"runAsNonRoot":true},"containers":[{"name":"nginx","image":"https://nirmata/nginx:latest","imagePullPolicy":"Always","readinessProbe":{"exec":{"command":["cat","/tmp/healthy"]},"initialDelaySeconds":5,"periodSeconds":10},"livenessProbe":{"tcpSocket":{"port":8080},"initialDelaySeconds":15,"periodSeconds":11},"resources":{"limits":{"memory":"2Gi","cpu":8},"requests":{"memory":"512Mi","cpu":"8"}},"ports":[{"containerPort":80}]}]}}}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AsteriskForInt",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"*","livenessProbe":{"periodSeconds":"*"}}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}],"livenessProbe":{"periodSeconds":11}}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AsteriskForMap",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"*","livenessProbe":"*"}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}],"livenessProbe":{"periodSeconds":11}}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AsteriskForArray",
            r#"{"spec":{"template":{"spec":{"containers":"*"}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}],"livenessProbe":{"periodSeconds":11}}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AsteriskFieldIsMissing",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"*","livenessProbe":"*"}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}],"livenessProbe":null}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            FailAt("/spec/template/spec/containers/0/"),
        ),
        (
            "TestValidateMap_livenessProbeIsNull",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"*","livenessProbe":null}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}],"livenessProbe":null}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_livenessProbeIsMissing",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"*","livenessProbe":null}]}}}}"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"game-web","labels":{"originalLabel":"isHere"}},"spec":{"selector":{"matchLabels":{"app":"nginxo"}},"serviceName":"nginxo","replicas":3,"template":{"metadata":{"labels":{"app":"nginxo"}},"spec":{"terminationGracePeriodSeconds":10,"containers":[{"name":"nginxo","image":"registry.k8s.io/nginx-but-no-slim:0.8","ports":[{"containerPort":8780,"name":"webp"}],"volumeMounts":[{"name":"www","mountPath":"/usr/share/nginxo/html"}]}]}},"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMapElement_TwoElementsInArrayOnePass",
            r#"{"^(list)":[{"(name)":"nirmata-*","object":[{"(key1)":"value*","key2":"value*"}]}]}"#,
            r#"{"list":[{"name":"nirmata-1","object":[{"key1":"value1","key2":"value2"}]},{"name":"nirmata-1","object":[{"key1":"not_value","key2":"not_value"}]}]}"#,
            Pass,
        ),
        (
            "TestValidateMapElement_OneElementInArrayPass",
            r#"[{"(name)":"nirmata-*","object":[{"(key1)":"value*","key2":"value*"}]}]"#,
            r#"[{"name":"nirmata-1","object":[{"key1":"value1","key2":"value2"}]}]"#,
            Pass,
        ),
        (
            "TestValidateMap_CorrectRelativePathInConfig",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"<=2048Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_RelativePathDoesNotExists",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"$(./../somekey/somekey2/memory)"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            FailAt("/spec/containers/0/resources/requests/memory/"),
        ),
        (
            "TestValidateMap_OnlyAnchorsInPath",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"$()"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            FailAt("/spec/containers/0/resources/requests/memory/"),
        ),
        (
            "TestValidateMap_MalformedReferenceOnlyDolarMark",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"$"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            FailAt("/spec/containers/0/resources/requests/memory/"),
        ),
        (
            "TestValidateMap_RelativePathWithParentheses",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"<=2048Mi"},"lim(its":{"mem)ory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"lim(its":{"mem)ory":"2048Mi"}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_MalformedPath",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"$(>2048)"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            FailAt("/spec/containers/0/resources/requests/memory/"),
        ),
        (
            "TestValidateMap_AbosolutePathExists",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"<=2048Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AbsolutePathToMetadata",
            r#"{"spec":{"containers":[{"(name)":"kyverno","image":"kyverno.io*"}]}}"#,
            r#"{"spec":{"containers":[{"name":"kyverno","image":"kyverno.io/test:latest"}]}}"#,
            Pass,
        ),
        (
            "TestValidateMap_AbsolutePathToMetadata_fail",
            r#"{"metadata":{"labels":{"app":"nirmata*"}},"spec":{"containers":[{"(name)":"nirmata*","image":"nirmata.io*"}]}}"#,
            r#"{"metadata":{"labels":{"app":"nirmata*"}},"spec":{"containers":[{"name":"nirmata","image":"nginx"}]}}"#,
            FailAt("/spec/containers/0/image/"),
        ),
        (
            "TestValidateMap_AbosolutePathDoesNotExists",
            r#"{"spec":{"containers":[{"name":"*","resources":{"requests":{"memory":"$(<=/some/memory)"},"limits":{"memory":"2048Mi"}}}]}}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx-deployment","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nirmata","resources":{"requests":{"memory":"1024Mi"},"limits":{"memory":"2048Mi"}}}]}}"#,
            FailAt("/spec/containers/0/resources/requests/memory/"),
        ),
        (
            "TestValidateMapElement_OneElementInArrayNotPass",
            r#"[{"(name)":"nirmata-*","object":[{"(key1)":"value*","key2":"value*"}]}]"#,
            r#"[{"name":"nirmata-1","object":[{"key1":"value5","key2":"1value1"}]}]"#,
            FailAt("/0/object/0/key2/"),
        ),
    ];
    check_all(cases);
}

/// `TestValidateMapWildcardKeys`, by its case number.
#[test]
fn wildcard_keys() {
    let cases: &[Case] = &[
        ("1", r#"{"metadata" : {"annotations": {"test/*": "value1"}}}"#, r#"{"metadata" : {"annotations": {"test/bar": "value1"}}}"#, Pass),
        ("2", r#"{"metadata" : {"annotations": {"test/b??": "v*"}}}"#, r#"{"metadata" : {"annotations": {"test/bar": "value1"}}}"#, Pass),
        ("3", r#"{}"#, r#"{"metadata" : {"annotations": {"test/bar": "value1"}}}"#, Pass),
        ("4", r#"{"metadata" : {"annotations": {"test/b??": "v*"}}}"#, r#"{"metadata" : {"labels": {"test/bar": "value1"}}}"#, FailAt("/metadata/annotations/")),
        ("5", r#"{"metadata" : {"labels": {"*/test": "foo"}}}"#, r#"{"metadata" : {"labels": {"foo/test": "foo"}}}"#, Pass),
        ("6", r#"{"metadata" : {"labels": {"foo/a*": "bar"}}}"#, r#"{"metadata" : {"labels": {"foo/aa?": "bar", "foo/789": "bar"}}}"#, Pass),
        ("7", r#"{"metadata" : {"labels": {"foo/ABC*": "bar"}}}"#, r#"{"metadata" : {"labels": {"foo/AB?": "bar", "foo/ABC": "bar2"}}}"#, FailAt("/metadata/labels/foo/ABC/")),
        ("8", r#"{"=(metadata)" : {"=(labels)": {"foo/P*": "bar", "foo/Q*": "bar2"}}}"#, r#"{"metadata" : {"labels": {"foo/PQR": "bar", "foo/QR": "bar2"}}}"#, Pass),
        ("9", r#"{"metadata" : {"labels": {"foo/1*": "bar"}}}"#, r#"{"metadata" : {"labels": {"foo/123": "bar222"}}}"#, FailAt("/metadata/labels/foo/123/")),
        ("10", r#"{"metadata" : {"labels": {"foo/X*": "bar", "foo/A*": "bar2"}}}"#, r#"{"metadata" : {"labels": {"foo/XYZ": "bar"}}}"#, FailAt("/metadata/labels/foo/A*/")),
        ("11", r#"{"=(metadata)" : {"=(labels)": {"foo/1*": "bar", "foo/4*": "bar2"}}}"#, r#"{"metadata" : {"labels": {"foo/123": "bar"}}}"#, FailAt("/metadata/labels/foo/4*/")),
    ];
    check_all(cases);
}

/// `TestConditionalAnchorWithMultiplePatterns`, but for the cases below.
#[test]
fn conditional_anchor_with_multiple_patterns() {
    let cases: &[Case] = &[
        ("test-1", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-2", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-3", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-4", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "imagePullPolicy": "Never"}]}}"#, Pass),
        ("test-5", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Never"}]}}"#, Pass),
        ("test-6", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Never"}]}}"#, Skip),
        ("test-7", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "imagePullPolicy": "Always"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-8", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-9", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Always"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-10", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "imagePullPolicy": "Never"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Pass),
        ("test-11", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Never"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Pass),
        ("test-12", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Never"},{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-13", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-14", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-15", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-16", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx", "imagePullPolicy": "Never"}]}}"#, Pass),
        ("test-17", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Never"}]}}"#, Pass),
        ("test-18", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.28", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:1.2.3", "imagePullPolicy": "Never"}]}}"#, Skip),
        ("test-19", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-20", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:latest", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-21", r#"{"spec": {"containers": [{"name": "*","(image)": "*:latest | !*:*","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "busybox","image": "busybox:1.2.3", "imagePullPolicy": "Always"},{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "IfNotPresent"}]}}"#, Pass),
        ("test-22", r#"{"spec": {"containers": [{"name": "*","(image)": "!*:* | *:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-24", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-26", r#"{"spec": {"containers": [{"name": "*","<(image)": "nginx", "env": [{"<(name)": "foo", "<(value)": "bar" }],"imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "env": [{"name": "foo", "value": "bar" }],"imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-28", r#"{"spec": {"containers": [{"name": "*", "env": [{"<(name)": "foo", "<(value)": "bar" }],"imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "env": [{"name": "foo", "value": "bar" }],"imagePullPolicy": "IfNotpresent"}]}}"#, Pass),
        ("test-29", r#"{"spec": {"containers": [{"name": "*", "env": [{"<(name)": "foo", "<(value)": "bar" }],"imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "env": [{"name": "foo", "value": "bar" }],"imagePullPolicy": "Always"}]}}"#, Fail),
        ("test-31", r#"{"metadata": {"<(name)": "nginx"},"spec": {"imagePullSecrets": [{"name": "regcred"}]}}"#, r#"{"metadata": {"name": "nginx"},"spec": {"containers": [{"name": "nginx","image": "nginx:latest"}], "imagePullSecrets": [{"name": "cred"}]}}"#, Fail),
        ("test-32", r#"{"metadata": {"labels": {"<(foo)": "bar"}},"spec": {"containers": [{"name": "nginx","image": "!*:latest"}]}}"#, r#"{"metadata": {"name": "nginx","labels": {"foo": "bar"}},"spec": {"containers": [{"name": "nginx","image": "nginx"}]}}"#, Pass),
        ("test-33", r#"{"metadata": {"labels": {"<(foo)": "bar"}},"spec": {"containers": [{"name": "nginx","image": "!*:latest"}]}}"#, r#"{"metadata": {"name": "nginx","labels": {"foo": "bar"}},"spec": {"containers": [{"name": "nginx","image": "nginx:latest"}]}}"#, Fail),
        ("test-34", r#"{"spec": {"containers": [{"name": "*","<(image)": "nginx"}],"imagePullSecrets": [{"name": "my-registry-secret"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx"}], "imagePullSecrets": [{"name": "cred"}]}}"#, Fail),
        ("test-36", r#"{"spec": {"containers": [{"name": "*","<(image)": "nginx"}],"imagePullSecrets": [{"name": "my-registry-secret"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx"}], "imagePullSecrets": [{"name": "my-registry-secret"}]}}"#, Pass),
        ("test-37", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}]}}"#, Skip),
        ("test-38", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}],"volumes": [{"hostPath": {"path": "/var/run/docker.sock"}}]}}"#, Fail),
        ("test-39", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}],"volumes": [{"hostPath": {"path": "/randome/value"}}]}}"#, Skip),
        ("test-40", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx","allow-docker": "true"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}],"volumes": [{"hostPath": {"path": "/var/run/docker.sock"}}]}}"#, Pass),
        ("test-41", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx","allow-docker": "false"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}],"volumes": [{"hostPath": {"path": "/var/run/docker.sock"}}]}}"#, Fail),
        ("test-42", r#"{"metadata": {"labels": {"allow-docker": "true"}},"(spec)": {"(volumes)": [{"(hostPath)": {"path": "/var/run/docker.sock"}}]}}"#, r#"{"metadata": {"labels": {"run": "nginx"},"name": "nginx"},"spec": {"containers": [{"image": "nginx","name": "nginx"}],"volumes": [{"hostPath": {"path": "/var/run/docker.sock"}}]}}"#, Fail),
        ("test-43", r#"{"spec": {"=(volumes)": [{"(name)": "!cache-volume","=(emptyDir)": {"sizeLimit": "?*"}}]}}"#, r#"{"spec": {"volumes": [{"name": "cache-volume","emptyDir": {}}]}}"#, Skip),
        ("test-44", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"initContainers": [{"name": "nginx", "securityContext": {"runAsUser": 1000}}], "containers": [{"name": "nginx", "image": "nginx"}]}}"#, Pass),
        ("test-45", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"initContainers": [{"name": "nginx", "securityContext": {"runAsUser": 0}}], "containers": [{"name": "nginx", "image": "nginx"}]}}"#, Fail),
        ("test-46", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"initContainers": [{"name": "istio-init", "securityContext": {"runAsUser": 0}}], "containers": [{"securityContext": {"runAsUser": 1000}}]}}"#, Pass),
        ("test-47", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"initContainers": [{"name": "istio-init", "securityContext": {"runAsUser": 1000}}], "containers": [{"securityContext": {"runAsUser": 0}}]}}"#, Fail),
        ("test-48", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"containers": [{"securityContext": {"runAsUser": 1000}}]}}"#, Pass),
        ("test-49", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"containers": [{"securityContext": {"runAsUser": 0}}]}}"#, Fail),
        ("test-50", r#"{"spec": {"=(initContainers)": [{"(name)": "!istio-init", "=(securityContext)": {"=(runAsUser)": ">0"}}], "=(containers)": [{"=(securityContext)": {"=(runAsUser)": ">0"}}]}}"#, r#"{"spec": {"initContainers": [{"name": "istio-init", "securityContext": {"runAsUser": 0}}], "containers": [{"name": "nginx", "image": "nginx"}]}}"#, Pass),
        ("test-51", r#"{"spec": {"=(volumes)": [{"(name)": "!credential-socket&!istio-data&!istio-envoy&!workload-certs&!workload-socket","=(emptyDir)": {"sizeLimit": "?*"}}]}}"#, r#"{"spec": {"volumes": [{"name": "credential-socket","emptyDir": {"sizeLimit": "1Gi"}}]}}"#, Skip),
        ("test-52", r#"{"spec": {"=(volumes)": [{"(name)": "!credential-socket&!istio-data&!istio-envoy&!workload-certs&!workload-socket","=(emptyDir)": {"sizeLimit": "?*"}}]}}"#, r#"{"spec": {"volumes": [{"name": "cache-volume","emptyDir": {"sizeLimit": "1Gi"}}]}}"#, Pass),
        ("test-53", r#"{"spec": {"=(volumes)": [{"(name)": "!credential-socket&!istio-data&!istio-envoy&!workload-certs&!workload-socket","=(emptyDir)": {"sizeLimit": "?*"}}]}}"#, r#"{"spec": {"volumes": [{"name": "cache-volume"}]}}"#, Pass),
        ("test-54", r#"{"spec": {"=(volumes)": [{"(name)": "!credential-socket&!istio-data&!istio-envoy&!workload-certs&!workload-socket","=(emptyDir)": {"sizeLimit": "?*"}}]}}"#, r#"{"spec": {"volumes": [{"name": "cache-volume","emptyDir": {}}]}}"#, Fail),
    ];
    check_all(cases);
}

// divergence: test-23, test-25, test-27, test-30 and test-35 of
// TestConditionalAnchorWithMultiplePatterns are labelled "fail", but Go's testMatchPattern checks
// nothing for that label. In each a global anchor `<(...)` does not match, and Kyverno's
// MatchPattern then reports a skip: `globalAnchorHandler` returns a global anchor error, which
// `skip()` recognises at every level up to MatchPattern. Test_global_anchor's asserted case
// check_global_anchor_skip is the same shape as test-23 and expects that skip. They are kept out
// of the table above and asserted as skips here.

/// The five cases above, with what Kyverno's code does.
#[test]
fn global_anchor_mismatch_skips_where_the_table_says_fail() {
    let cases: &[Case] = &[
        ("test-23", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-25", r#"{"spec": {"containers": [{"name": "*","<(image)": "nginx", "env": [{"<(name)": "foo", "<(value)": "bar" }],"imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "env": [{"name": "foo1", "value": "bar" }],"imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-27", r#"{"spec": {"containers": [{"name": "*", "env": [{"<(name)": "foo", "<(value)": "bar" }],"imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx", "env": [{"name": "foo1", "value": "bar" }],"imagePullPolicy": "Always"}]}}"#, Skip),
        ("test-30", r#"{"metadata": {"<(name)": "nginx"},"spec": {"imagePullSecrets": [{"name": "regcred"}]}}"#, r#"{"metadata": {"name": "somename"},"spec": {"containers": [{"name": "nginx","image": "nginx:latest"}], "imagePullSecrets": [{"name": "cred"}]}}"#, Skip),
        ("test-35", r#"{"spec": {"containers": [{"name": "*","<(image)": "nginx"}],"imagePullSecrets": [{"name": "my-registry-secret"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "somepod"}], "imagePullSecrets": [{"name": "cred"}]}}"#, Skip),
    ];
    check_all(cases);
}

/// `Test_global_anchor`.
#[test]
fn global_anchor() {
    let cases: &[Case] = &[
        ("check_global_anchor_skip", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:v1", "imagePullPolicy": "Always"}]}}"#, Skip),
        ("check_global_anchor_fail", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "Always"}]}}"#, Fail),
        ("check_global_anchor_pass", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "IfNotPresent"}]}}"#, Pass),
        ("check_global_anchor_mixed", r#"{"spec": {"containers": [{"name": "*","<(image)": "*:latest","imagePullPolicy": "!Always"}]}}"#, r#"{"spec": {"containers": [{"name": "nginx","image": "nginx:latest", "imagePullPolicy": "IfNotPresent"},{"name": "nginx","image": "nginx:v2", "imagePullPolicy": "IfNotPresent"}]}}"#, Pass),
    ];
    check_all(cases);
}

/// Pattern rules of `pkg/engine/validation_test.go`, each rule's expectation taken from the message
/// the Go test asserts for it (`passed`, or `failed at path ...`); `AnchorList_fail` and
/// `existenceAnchor_fail` assert only that the rule does not pass. `anyPattern` entries are checked
/// one pattern at a time, as the Go message reports each.
#[test]
fn engine_validation_pattern_rules() {
    let cases: &[Case] = &[
        (
            "TestValidate_image_tag_fail validate-tag",
            r#"{"spec":{"containers":[{"image":"*:*"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest","imagePullPolicy":"Always"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_image_tag_fail validate-latest",
            r#"{"spec":{"containers":[{"(image)":"*latest","imagePullPolicy":"NotPresent"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest","imagePullPolicy":"Always"}]}}"#,
            FailAt("/spec/containers/0/imagePullPolicy/"),
        ),
        (
            "TestValidate_image_tag_pass validate-tag",
            r#"{"spec":{"containers":[{"image":"*:*"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest","imagePullPolicy":"Always"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_image_tag_pass validate-latest",
            r#"{"spec":{"containers":[{"(image)":"*latest","imagePullPolicy":"Always"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest","imagePullPolicy":"Always"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_Fail_anyPattern check-default-namespace[0]",
            r#"{"metadata":{"namespace":"?*"}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}"#,
            FailAt("/metadata/namespace/"),
        ),
        (
            "TestValidate_Fail_anyPattern check-default-namespace[1]",
            r#"{"metadata":{"namespace":"!default"}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"myapp"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}"#,
            FailAt("/metadata/namespace/"),
        ),
        (
            "TestValidate_host_network_port validate-host-network-port",
            r#"{"spec":{"hostNetwork":false,"containers":[{"name":"*","ports":[{"hostPort":null}]}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-host-network"},"spec":{"hostNetwork":false,"containers":[{"name":"nginx-host-network","image":"nginx","ports":[{"containerPort":80,"hostPort":80}]}]}}"#,
            FailAt("/spec/containers/0/ports/0/hostPort/"),
        ),
        (
            "TestValidate_anchor_arraymap_pass validate-host-path",
            r#"{"spec":{"volumes":[{"name":"*","=(hostPath)":{"path":"!/var/lib"}}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"image-with-hostpath","labels":{"app.type":"prod","namespace":"my-namespace"}},"spec":{"containers":[{"name":"image-with-hostpath","image":"docker.io/nautiker/curl","volumeMounts":[{"name":"var-lib-etcd","mountPath":"/var/lib"}]}],"volumes":[{"name":"var-lib-etcd","hostPath":{"path":"/var/lib1"}}]}}"#,
            Pass,
        ),
        (
            "TestValidate_anchor_arraymap_fail validate-host-path",
            r#"{"spec":{"volumes":[{"=(hostPath)":{"path":"!/var/lib"}}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"image-with-hostpath","labels":{"app.type":"prod","namespace":"my-namespace"}},"spec":{"containers":[{"name":"image-with-hostpath","image":"docker.io/nautiker/curl","volumeMounts":[{"name":"var-lib-etcd","mountPath":"/var/lib"}]}],"volumes":[{"name":"var-lib-etcd","hostPath":{"path":"/var/lib"}}]}}"#,
            FailAt("/spec/volumes/0/hostPath/path/"),
        ),
        (
            "TestValidate_anchor_map_notfound pod rule 2",
            r#"{"spec":{"=(securityContext)":{"runAsNonRoot":true}}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_anchor_map_found_valid pod rule 2",
            r#"{"spec":{"=(securityContext)":{"runAsNonRoot":true}}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}],"securityContext":{"runAsNonRoot":true}}}"#,
            Pass,
        ),
        (
            "TestValidate_inequality_List_Processing pod rule 2",
            r#"{"spec":{"=(supplementalGroups)":">0"}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}],"supplementalGroups":["2","5","10"]}}"#,
            Pass,
        ),
        (
            "TestValidate_inequality_List_ProcessingBrackets pod rule 2",
            r#"{"spec":{"=(supplementalGroups)":[">0 & <100001"]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}],"supplementalGroups":["2","5","10","100","10000","1000","543"]}}"#,
            Pass,
        ),
        (
            "TestValidate_anchor_map_found_invalid pod rule 2",
            r#"{"spec":{"=(securityContext)":{"runAsNonRoot":true}}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}],"securityContext":{"runAsNonRoot":false}}}"#,
            FailAt("/spec/securityContext/runAsNonRoot/"),
        ),
        (
            "TestValidate_AnchorList_pass pod image rule",
            r#"{"spec":{"=(containers)":[{"name":"nginx"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx"},{"name":"nginx"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_AnchorList_fail pod image rule",
            r#"{"spec":{"=(containers)":[{"name":"nginx"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx"},{"name":"busy"}]}}"#,
            Fail,
        ),
        (
            "TestValidate_existenceAnchor_fail pod image rule",
            r#"{"spec":{"^(containers)":[{"name":"nginx"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"busy1"},{"name":"busy"}]}}"#,
            Fail,
        ),
        (
            "TestValidate_existenceAnchor_pass pod image rule",
            r#"{"spec":{"^(containers)":[{"name":"nginx"}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"myapp-pod","labels":{"app":"v1"}},"spec":{"containers":[{"name":"nginx"},{"name":"busy"}]}}"#,
            Pass,
        ),
        (
            "TestValidate_negationAnchor_deny validate-host-path",
            r#"{"spec":{"volumes":[{"name":"*","X(hostPath)":null}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"image-with-hostpath","labels":{"app.type":"prod","namespace":"my-namespace"}},"spec":{"containers":[{"name":"image-with-hostpath","image":"docker.io/nautiker/curl","volumeMounts":[{"name":"var-lib-etcd","mountPath":"/var/lib"}]}],"volumes":[{"name":"var-lib-etcd","hostPath":{"path":"/var/lib1"}}]}}"#,
            FailAt("/spec/volumes/0/hostPath/"),
        ),
        (
            "TestValidate_negationAnchor_pass validate-host-path",
            r#"{"spec":{"volumes":[{"name":"*","X(hostPath)":null}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"image-with-hostpath","labels":{"app.type":"prod","namespace":"my-namespace"}},"spec":{"containers":[{"name":"image-with-hostpath","image":"docker.io/nautiker/curl","volumeMounts":[{"name":"var-lib-etcd","mountPath":"/var/lib"}]}],"volumes":[{"name":"var-lib-etcd","emptyDir":{}}]}}"#,
            Pass,
        ),
    ];
    check_all(cases);
}

/// Pattern rules of `pkg/webhooks/resource/validation_test.go` whose failure message is asserted.
#[test]
fn webhook_validation_pattern_rules() {
    let cases: &[Case] = &[
        (
            "webhooks check-label-app",
            r#"{"metadata":{"labels":{"app":"?*"}}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pod","namespace":""},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}"#,
            FailAt("/metadata/labels/"),
        ),
        (
            "webhooks check-label-app",
            r#"{"metadata":{"labels":{"app":"?*"}}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pod","namespace":"default"},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}"#,
            FailAt("/metadata/labels/"),
        ),
    ];
    check_all(cases);
}
