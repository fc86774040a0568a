//! The detector with gitleaks' default rules and small configurations of our own: each
//! credential shape found, and each way gitleaks suppresses one honoured. Every credential here
//! is made up for these tests.

use std::sync::OnceLock;

use palisade_secrets::config::Config;
use palisade_secrets::decode::{DecodeLimits, Encoding};
use palisade_secrets::detect::{redacted, shannon_entropy, Detector, Found, Fragment};

fn default_detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&Config::default_rules()))
}

fn scan(path: &str, text: &str) -> Vec<Found> {
    default_detector().detect(&Fragment::file(text.as_bytes(), path))
}

fn of_rule<'a>(found: &'a [Found], rule_id: &str) -> Vec<&'a Found> {
    found.iter().filter(|f| f.rule_id == rule_id).collect()
}

fn secret_of<'a>(found: &'a Found, text: &'a str) -> &'a str {
    std::str::from_utf8(found.secret(text.as_bytes())).unwrap()
}

// Made-up credentials in the shapes the default rules look for.
const AWS_KEY_ID: &str = "AKIAQ3ZRW7TNMV4XJ2LP";
const GITHUB_PAT: &str = "ghp_R4nd0mT0k3nV4lu3Xq9Lm2Pz4Rt8Vw6Yb1Cd";
const SLACK_WEBHOOK: &str = "https://hooks.slack.com/services/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";

#[test]
fn aws_access_key_id_is_found_where_it_is() {
    let text = format!("[default]\naws_access_key_id = {AWS_KEY_ID}\n");
    let found = scan("home/.aws/credentials", &text);
    let aws = of_rule(&found, "aws-access-token");
    assert_eq!(aws.len(), 1, "{found:?}");
    assert_eq!(secret_of(aws[0], &text), AWS_KEY_ID);
    assert_eq!(aws[0].start_line, 2);
    // gitleaks counts columns on later lines from the preceding newline: one more than 1-based.
    let start = text.find(AWS_KEY_ID).unwrap();
    assert_eq!(aws[0].match_span, start..start + AWS_KEY_ID.len());
    assert_eq!(aws[0].start_column, "aws_access_key_id = ".len() + 2);
    assert_eq!(aws[0].end_column, "aws_access_key_id = ".len() + AWS_KEY_ID.len() + 1);
    assert_eq!(aws[0].fingerprint, "home/.aws/credentials:aws-access-token:2");
    assert!(aws[0].entropy > 3.0);
}

#[test]
fn aws_documentation_style_key_is_allowlisted() {
    // The rule's allowlist drops ids ending in EXAMPLE.
    let found = scan("README.md", "key id: AKIAQ3ZRW7TNMEXAMPLE\n");
    assert!(of_rule(&found, "aws-access-token").is_empty(), "{found:?}");
}

#[test]
fn github_pat_on_the_first_line_and_its_allowlisted_path() {
    let text = format!("{GITHUB_PAT} is the CI token\n");
    let found = scan("ci/env.sh", &text);
    let pat = of_rule(&found, "github-pat");
    assert_eq!(pat.len(), 1, "{found:?}");
    assert_eq!((pat[0].start_line, pat[0].start_column, pat[0].end_column), (1, 1, GITHUB_PAT.len()));
    assert_eq!(pat[0].secret_span, 0..GITHUB_PAT.len());

    // The rule's own path allowlist, and the global one (vendored node modules).
    assert!(of_rule(&scan("node_modules/@octokit/auth-token/README.md", &text), "github-pat").is_empty());
    assert!(scan("web/node_modules/left-pad/index.js", &text).is_empty());
}

#[test]
fn private_key_block_spans_lines_and_gitleaks_allow_suppresses_it() {
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQAB";
    let text = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
    let found = scan("deploy/id_rsa", &text);
    let key = of_rule(&found, "private-key");
    assert_eq!(key.len(), 1, "{found:?}");
    assert_eq!((key[0].start_line, key[0].end_line), (1, 3));
    assert_eq!(key[0].match_span, 0..text.trim_end().len());
    let last_newline = text.trim_end().rfind('\n').unwrap();
    assert_eq!(key[0].end_column, text.trim_end().len() - last_newline);

    let allowed = format!("-----BEGIN RSA PRIVATE KEY----- # gitleaks:allow\n{body}\n-----END RSA PRIVATE KEY-----\n");
    assert!(of_rule(&scan("deploy/id_rsa", &allowed), "private-key").is_empty());
}

#[test]
fn slack_webhook_needs_its_keyword() {
    let text = format!("notify: {SLACK_WEBHOOK}\n");
    let found = scan("config/alerts.yaml", &text);
    let hook = of_rule(&found, "slack-webhook-url");
    assert_eq!(hook.len(), 1, "{found:?}");
    assert_eq!(secret_of(hook[0], &text), SLACK_WEBHOOK);

    // The pattern's `.` also matches `-`, but the keyword `hooks.slack.com` is absent, so the
    // prefilter never runs the rule.
    let lookalike = text.replace("hooks.slack.com", "hooks-slack.com");
    assert!(of_rule(&scan("config/alerts.yaml", &lookalike), "slack-webhook-url").is_empty());
}

#[test]
fn generic_api_key_high_entropy_versus_placeholder_and_stopword() {
    let text = "api_token = \"x7Kq9Lm2Pz4Rt8Vw3Yb6\"\n";
    let found = scan("app/settings.py", text);
    let generic = of_rule(&found, "generic-api-key");
    assert_eq!(generic.len(), 1, "{found:?}");
    assert_eq!(secret_of(generic[0], text), "x7Kq9Lm2Pz4Rt8Vw3Yb6");

    // Low entropy (1 bit per character) is at or below the rule's 3.5.
    assert!(of_rule(&scan("app/settings.py", "api_token = \"abababababababab\"\n"), "generic-api-key").is_empty());
    // A stopword ("account") inside the secret.
    assert!(of_rule(&scan("app/settings.py", "api_token = \"Account7Kq9Lm2Pz4Rt8\"\n"), "generic-api-key").is_empty());
}

#[test]
fn generic_finding_yields_to_a_specific_rule_on_the_same_line() {
    let text = format!("github_token = \"{GITHUB_PAT}\"\n");
    let found = scan("app/settings.py", &text);
    assert_eq!(of_rule(&found, "github-pat").len(), 1, "{found:?}");
    assert!(of_rule(&found, "generic-api-key").is_empty(), "{found:?}");
}

#[test]
fn fingerprints_with_and_without_a_commit() {
    let text = format!("\n\nexport TOKEN={GITHUB_PAT}\n");
    let fragment = Fragment { bytes: text.as_bytes(), path: "scripts/env.sh", commit: Some("0123abcd"), start_line: 40 };
    let found = default_detector().detect(&fragment);
    let pat = of_rule(&found, "github-pat");
    assert_eq!(pat[0].start_line, 42);
    assert_eq!(pat[0].fingerprint, "0123abcd:scripts/env.sh:github-pat:42");
    let found = scan("scripts/env.sh", &text);
    assert_eq!(of_rule(&found, "github-pat")[0].fingerprint, "scripts/env.sh:github-pat:3");
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
    }
    out
}

#[test]
fn base64_encoded_secret_is_reported_at_the_encoded_text() {
    let encoded = base64(GITHUB_PAT.as_bytes());
    let text = format!("# build settings\npayload: {encoded}\n");
    let found = scan("build/settings.yaml", &text);
    let pat = of_rule(&found, "github-pat");
    assert_eq!(pat.len(), 1, "{found:?}");
    let start = text.find(&encoded).unwrap();
    assert_eq!(pat[0].match_span, start..start + encoded.len());
    assert_eq!(pat[0].start_line, 2);
    let decoded = pat[0].decoded.as_ref().expect("a decoded finding");
    assert_eq!((decoded.depth, decoded.chain.as_slice()), (1, &[Encoding::Base64][..]));
    assert_eq!(pat[0].secret(text.as_bytes()), GITHUB_PAT.as_bytes());
    assert!(pat[0].tags.iter().any(|t| t == "decoded:base64") && pat[0].tags.iter().any(|t| t == "decode-depth:1"));
    // Debug output shows neither the secret nor its encoding.
    let debug = format!("{found:?}");
    assert!(!debug.contains(&GITHUB_PAT[4..]) && !debug.contains(&encoded));

    // Decoding switched off: nothing.
    let detector = Detector::new(&Config::default_rules()).with_decode_limits(DecodeLimits { max_depth: 0, ..DecodeLimits::default() });
    assert!(of_rule(&detector.detect(&Fragment::file(text.as_bytes(), "build/settings.yaml")), "github-pat").is_empty());
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn nested_encoding_is_decoded_pass_by_pass() {
    let encoded = base64(hex(GITHUB_PAT.as_bytes()).as_bytes());
    let text = format!("blob {encoded}\n");
    let found = scan("data/blob.txt", &text);
    let pat = of_rule(&found, "github-pat");
    assert_eq!(pat.len(), 1, "{found:?}");
    let start = text.find(&encoded).unwrap();
    assert_eq!(pat[0].match_span, start..start + encoded.len());
    let decoded = pat[0].decoded.as_ref().unwrap();
    assert_eq!((decoded.depth, decoded.chain.as_slice()), (2, &[Encoding::Base64, Encoding::Hex][..]));
    assert!(pat[0].tags.iter().any(|t| t == "decode-depth:2"));

    // One pass only: the hex text is never decoded.
    let detector = Detector::new(&Config::default_rules()).with_decode_limits(DecodeLimits { max_depth: 1, ..DecodeLimits::default() });
    assert!(of_rule(&detector.detect(&Fragment::file(text.as_bytes(), "data/blob.txt")), "github-pat").is_empty());
}

#[test]
fn last_line_without_newline_and_allow_on_another_line() {
    // gitleaks would take "the line" from the start of the fragment here and let the first
    // line's marker suppress the finding; we only honour the marker on the match's own line.
    let text = format!("# gitleaks:allow\n{GITHUB_PAT}");
    let found = scan("a.sh", &text);
    let pat = of_rule(&found, "github-pat");
    assert_eq!((pat[0].start_line, pat[0].start_column, pat[0].end_column), (2, 2, GITHUB_PAT.len() + 1));
    assert!(of_rule(&scan("a.sh", &format!("x\n{GITHUB_PAT} # gitleaks:allow")), "github-pat").is_empty());
}

const COMPOSITE: &str = r#"
[[rules]]
id = "service-id"
regex = '''svc_id=([a-z0-9]{8})'''
keywords = ["svc_id"]

[[rules]]
id = "service-secret"
regex = '''svc_secret=([A-Za-z0-9]{16})'''
keywords = ["svc_secret"]
[[rules.required]]
id = "service-id"
withinLines = 1
"#;

#[test]
fn composite_rule_needs_its_partner_nearby() {
    let detector = Detector::new(&Config::parse(COMPOSITE, "composite.toml").unwrap());
    let near = "svc_id=k3j9x2m1\nsvc_secret=Z8y7X6w5V4u3T2s1\n";
    let found = detector.detect(&Fragment::file(near.as_bytes(), "svc.env"));
    let secret = of_rule(&found, "service-secret");
    assert_eq!(secret.len(), 1, "{found:?}");
    assert_eq!(secret[0].required.len(), 1);
    assert_eq!(secret[0].required[0].rule_id, "service-id");
    assert_eq!(of_rule(&found, "service-id").len(), 1, "not skipReport: reported on its own too");

    let far = "svc_id=k3j9x2m1\n\n\nsvc_secret=Z8y7X6w5V4u3T2s1\n";
    let found = detector.detect(&Fragment::file(far.as_bytes(), "svc.env"));
    assert!(of_rule(&found, "service-secret").is_empty(), "{found:?}");
    assert_eq!(of_rule(&found, "service-id").len(), 1);

    let alone = "svc_secret=Z8y7X6w5V4u3T2s1\n";
    assert!(detector.detect(&Fragment::file(alone.as_bytes(), "svc.env")).is_empty());
}

#[test]
fn skip_report_rule_is_only_a_condition() {
    let text = COMPOSITE.replace("keywords = [\"svc_id\"]", "keywords = [\"svc_id\"]\nskipReport = true");
    let detector = Detector::new(&Config::parse(&text, "composite.toml").unwrap());
    let found = detector.detect(&Fragment::file(b"svc_id=k3j9x2m1 svc_secret=Z8y7X6w5V4u3T2s1\n", "svc.env"));
    let ids: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, ["service-secret"]);
}

#[test]
fn keywords_are_a_case_insensitive_prefilter() {
    let config = Config::parse("[[rules]]\nid = \"zoo\"\nregex = '''secret-[0-9]{4}'''\nkeywords = [\"Zebra\"]\n", "zoo.toml").unwrap();
    let detector = Detector::new(&config);
    assert!(detector.detect(&Fragment::file(b"secret-1234\n", "a.txt")).is_empty());
    assert_eq!(detector.detect(&Fragment::file(b"ZEBRA secret-1234\n", "a.txt")).len(), 1);
}

#[test]
fn allowlist_conditions_and_targets() {
    let config = r#"
[[rules]]
id = "tok"
regex = '''tok_([a-z0-9]{12})'''
[[rules.allowlists]]
condition = "AND"
paths = ['''^tests/''']
stopwords = ["dummy"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''#\s*fixture''']
[[rules.allowlists]]
regexTarget = "match"
regexes = ['''^tok_0''']
"#;
    let detector = Detector::new(&Config::parse(config, "tok.toml").unwrap());
    let count = |path: &str, text: &str| detector.detect(&Fragment::file(text.as_bytes(), path)).len();
    assert_eq!(count("src/a.rs", "tok_dummy7k2m9x4\n"), 1, "AND: the stopword alone does not suppress");
    assert_eq!(count("tests/a.rs", "tok_q8w7e6r5t4y3\n"), 1, "AND: the path alone does not suppress");
    assert_eq!(count("tests/a.rs", "tok_dummy7k2m9x4\n"), 0, "AND: both criteria hold");
    assert_eq!(count("src/a.rs", "let t = \"tok_q8w7e6r5t4y3\"; # fixture\n"), 0, "line target");
    assert_eq!(count("src/a.rs", "tok_0q8w7e6r5t4y\n"), 0, "match target");
}

#[test]
fn path_only_rule_reports_the_file() {
    let config = "[[rules]]\nid = \"keystore\"\npath = '''\\.p12$'''\n";
    let detector = Detector::new(&Config::parse(config, "p.toml").unwrap());
    let found = detector.detect(&Fragment::file(b"\x30\x82binary", "certs/client.p12"));
    assert_eq!(found.len(), 1);
    assert!(found[0].whole_file);
    assert_eq!(found[0].fingerprint, "certs/client.p12:keystore:0");
    assert!(detector.detect(&Fragment::file(b"", "certs/client.pem")).is_empty());
}

#[test]
fn entropy_and_redaction() {
    assert_eq!(shannon_entropy(b""), 0.0);
    assert_eq!(shannon_entropy(b"aabb"), 1.0);
    assert_eq!(shannon_entropy(b"abcd"), 2.0);
    assert_eq!(redacted(GITHUB_PAT.as_bytes()), format!("ghp_… ({} bytes)", GITHUB_PAT.len()));
    assert_eq!(redacted(b"short"), "s… (5 bytes)");
    assert_eq!(redacted(b"abc"), "… (3 bytes)");
}

#[test]
fn huge_line_and_random_bytes_are_scanned_to_the_end() {
    let mut text = vec![b'a'; 20 << 20];
    // A fixed xorshift stream: 1 MiB of arbitrary bytes, newlines removed so the line stays one.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    text.extend((0..1 << 20).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state as u8 {
            b'\n' => b' ',
            byte => byte,
        }
    }));
    text.extend_from_slice(b" ");
    let start = text.len();
    text.extend_from_slice(GITHUB_PAT.as_bytes());
    text.push(b'\n');
    let found = default_detector().detect(&Fragment::file(&text, "logs/dump.txt"));
    let pat = of_rule(&found, "github-pat");
    assert_eq!(pat.len(), 1);
    assert_eq!((pat[0].start_line, pat[0].match_span.clone()), (1, start..start + GITHUB_PAT.len()));
    assert_eq!(pat[0].start_column, start + 1);
    assert!(found.iter().all(|f| f.match_span.end <= text.len() && f.start_line == 1));
}

#[test]
fn commits_and_targeted_global_allowlists() {
    let config = r#"
[[allowlists]]
targetRules = ["tok"]
regexes = ['''^[a-z]+$''']
[[allowlists]]
commits = ["FEEDBEEF"]

[[rules]]
id = "tok"
regex = '''tok_([a-z0-9]{12})'''
[[rules.allowlists]]
commits = ["c0ffee"]

[[rules]]
id = "other"
regex = '''oth_([a-z]{12})'''
"#;
    let detector = Detector::new(&Config::parse(config, "c.toml").unwrap());
    let ids = |text: &str, commit: Option<&str>| -> Vec<String> {
        let fragment = Fragment { bytes: text.as_bytes(), path: "x.txt", commit, start_line: 1 };
        detector.detect(&fragment).into_iter().map(|f| f.rule_id).collect()
    };
    let text = "tok_q8w7e6r5t4y3 tok_abcdefghijkl oth_abcdefghijkl\n";
    // The targeted global allowlist only drops tok's all-letters secret, not other's.
    assert_eq!(ids(text, None), ["tok", "other"]);
    assert_eq!(ids(text, Some("c0ffee")), ["other"], "the rule's commit allowlist skips the rule");
    assert!(ids(text, Some("feedbeef")).is_empty(), "a global commit allowlist skips the fragment");
}

#[test]
fn generic_findings_yield_only_to_containing_secrets_on_their_line() {
    let config = "[[rules]]\nid = \"generic-x\"\nregex = '''gx_([a-z0-9]{8})'''\n\n[[rules]]\nid = \"svc\"\nregex = '''svc:(gx_[a-z0-9]{8})'''\n";
    let detector = Detector::new(&Config::parse(config, "g.toml").unwrap());
    let text = "gx_k3j9x2m1 gx_k3j9x2m1 gx_p0o9i8u7 svc:gx_k3j9x2m1\ngx_k3j9x2m1\n";
    let found = detector.detect(&Fragment::file(text.as_bytes(), "g.txt"));
    let kept: Vec<(&str, usize, &str)> = found.iter().map(|f| (f.rule_id.as_str(), f.start_line, secret_of(f, text))).collect();
    assert_eq!(kept, [("generic-x", 1, "p0o9i8u7"), ("generic-x", 2, "k3j9x2m1"), ("svc", 1, "gx_k3j9x2m1")]);
}

#[test]
fn composite_evidence_is_capped_and_searched_by_line() {
    use palisade_secrets::detect::MAX_REQUIRED_EVIDENCE;
    let detector = Detector::new(&Config::parse(COMPOSITE, "composite.toml").unwrap());
    // 2,000 lines of ids, one secret in the middle: only ids on the neighbouring lines count.
    let mut text = "svc_id=k3j9x2m1 svc_id=a1b2c3d4 svc_id=z9y8x7w6 svc_id=q1w2e3r4 svc_id=m5n6b7v8\n".repeat(1000);
    text.push_str("svc_secret=Z8y7X6w5V4u3T2s1\n");
    text.push_str(&"svc_id=k3j9x2m1\n".repeat(1000));
    let found = detector.detect(&Fragment::file(text.as_bytes(), "svc.env"));
    let secret = of_rule(&found, "service-secret");
    assert_eq!(secret.len(), 1);
    assert_eq!(secret[0].required.len(), 6, "five ids on the line before, one after");
    assert!(secret[0].required.iter().all(|r| r.start_line.abs_diff(1001) <= 1));

    let unbounded = COMPOSITE.replace("withinLines = 1\n", "");
    let detector = Detector::new(&Config::parse(&unbounded, "composite.toml").unwrap());
    let found = detector.detect(&Fragment::file(text.as_bytes(), "svc.env"));
    assert_eq!(of_rule(&found, "service-secret")[0].required.len(), MAX_REQUIRED_EVIDENCE);
}

#[test]
fn a_long_line_of_candidates_is_checked_once_per_line() {
    // 60,000 generic candidates on one 2 MB line: gitleaks:allow, the rule's line-target
    // allowlist and its stop words are each settled without rescanning the line per candidate.
    let one = "api_key=\"Xy7Kq9Lm2Pz4Rt8Vw3Jn\" ";
    let line = one.repeat(60_000);
    let found = scan("conf/huge.ini", &format!("{line}\n"));
    assert_eq!(of_rule(&found, "generic-api-key").len(), 60_000);
    assert!(scan("conf/huge.ini", &format!("{line}# gitleaks:allow\n")).is_empty());
    // The line-target allowlist (`--mount=type=secret,`) drops them all.
    assert!(of_rule(&scan("conf/huge.ini", &format!("--mount=type=secret, {line}\n")), "generic-api-key").is_empty());
}

#[test]
fn many_encoded_secrets_on_one_line_are_each_located() {
    // 20,000 base64 segments on one line, each decoding to a token: every decoded match is
    // mapped back by binary search, not by scanning the segments and the line again.
    let encoded = base64(GITHUB_PAT.as_bytes());
    let line = format!("{encoded} ").repeat(20_000);
    let found = scan("dump/tokens.txt", &format!("{line}\n"));
    let pats = of_rule(&found, "github-pat");
    assert_eq!(pats.len(), 20_000);
    let step = encoded.len() + 1;
    assert!(pats.iter().enumerate().all(|(i, f)| f.match_span == (i * step..i * step + encoded.len()) && f.decoded.is_some()));
}
