//! `Detector::detect` takes shortcuts for speed (a keyword DFA, regexes searched only in windows
//! around their keywords); `Detector::detect_reference` takes none. Both must give the
//! same findings, here on generated text dense in credentials, encodings and near misses, on
//! the rule fixtures' texts, and on this crate's own sources. Every credential is generated
//! from a fixed seed or comes from the made-up fixtures.

use std::path::Path;

use palisade_secrets::config::Config;
use palisade_secrets::detect::{Detector, Found, Fragment};

/// xorshift64: deterministic, so a failure reproduces.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `len` characters of `alphabet`, and up to `spread - 1` more.
    fn string(&mut self, alphabet: &[u8], len: usize, spread: usize) -> String {
        let len = len + self.below(spread);
        (0..len).map(|_| char::from(alphabet[self.below(alphabet.len())])).collect()
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

fn base64(data: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..=chunk.len() {
            out.push(char::from(TABLE[(n >> (18 - 6 * k) & 63) as usize]));
        }
    }
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn percent(data: &[u8]) -> String {
    data.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A generated credential-looking value or assignment, or a near miss.
fn piece(random: &mut Random, fixtures: &[String]) -> String {
    match random.below(16) {
        0 => format!("AKIA{}", random.string(UPPER_DIGITS, 16, 1)),
        1 => format!("ghp_{}", random.string(ALNUM, 36, 1)),
        2 => format!("api_key = \"{}\"", random.string(ALNUM, 10, 30)),
        3 => format!("password: '{}'", random.string(ALNUM, 12, 1)),
        4 => format!("eyJ{}.eyJ{}.{}", random.string(ALNUM, 20, 1), random.string(ALNUM, 24, 1), random.string(ALNUM, 16, 1)),
        5 => format!("xoxb-{}-{}-{}", random.string(HEX, 11, 1), random.string(HEX, 12, 1), random.string(ALNUM, 24, 1)),
        6 => format!("SK{}", random.string(HEX, 32, 1)),
        7 => format!("token {}", random.string(HEX, 40, 1)),
        8 => " gitleaks:allow".to_owned(),
        9 => "\n".repeat(1 + random.below(3)),
        10 => fixtures.get(random.below(fixtures.len().max(1))).cloned().unwrap_or_default(),
        11 => {
            let inner = piece(random, fixtures);
            match random.below(3) {
                0 => base64(inner.as_bytes()),
                1 => hex(inner.as_bytes()),
                _ => percent(inner.as_bytes()),
            }
        }
        12 => random.string(b"ABCDEFabcdef0123456789+/=_-", 8, 40),
        13 => random.string(b" \t=:'\"`;,()", 1, 4),
        14 => ["secret", "Auth", "KEY", "access", "credential", "s.", "ey", "sk", "q~"][random.below(9)].to_owned(),
        _ => random.string(b"abcdefghijklmnopqrstuvwxyz_.-", 1, 12),
    }
}

/// The texts of tests/rule_fixtures/*.toml (positives and negatives of every default rule).
fn fixture_texts() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rule_fixtures");
    let mut texts = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return texts };
    for entry in entries.flatten() {
        let Ok(source) = std::fs::read_to_string(entry.path()) else { continue };
        let Ok(document) = source.parse::<toml::Table>() else { continue };
        for rule in document.get("rule").and_then(toml::Value::as_array).into_iter().flatten() {
            for key in ["positive", "negative"] {
                for text in rule.get(key).and_then(toml::Value::as_array).into_iter().flatten() {
                    match text {
                        toml::Value::String(text) => texts.push(text.clone()),
                        toml::Value::Table(table) => texts.extend(table.get("text").and_then(toml::Value::as_str).map(str::to_owned)),
                        _ => {}
                    }
                }
            }
        }
    }
    texts.sort();
    texts
}

fn assert_same(detector: &Detector, path: &str, text: &[u8]) -> Vec<Found> {
    let fragment = Fragment::file(text, path);
    let fast = detector.detect(&fragment);
    let reference = detector.detect_reference(&fragment);
    assert_eq!(fast, reference, "{path}: {:?}", String::from_utf8_lossy(text));
    fast
}

#[test]
fn generated_texts_give_the_reference_findings() {
    let detector = Detector::new(&Config::default_rules());
    let fixtures = fixture_texts();
    let mut random = Random(0x5EC2_E75D_1FF0_0001);
    let (mut findings, mut decoded) = (0, 0);
    for n in 0..400 {
        let text: String = (0..1 + n % 40).map(|_| piece(&mut random, &fixtures)).collect();
        let found = assert_same(&detector, "generated.txt", text.as_bytes());
        findings += found.len();
        decoded += found.iter().filter(|f| f.decoded.is_some()).count();
    }
    // The comparison means something only if the texts hold findings, decoded ones included.
    assert!(findings > 300 && decoded > 20, "{findings} findings, {decoded} decoded");
}

/// Texts where `detect` searches only near keywords: every default rule's keywords packed
/// together, at the very start and end of the text, overlapping one another, followed by values
/// close to a rule's longest match and by more keywords within that length, so windows merge,
/// candidates overlap and a match may end where the next keyword's window begins.
#[test]
fn keyword_dense_texts_give_the_reference_findings() {
    let config = Config::default_rules();
    let detector = Detector::new(&config);
    let keywords: Vec<&str> = config.rules.iter().flat_map(|rule| rule.keywords.iter().map(String::as_str)).collect();
    let mut random = Random(0x5EC2_E75D_1FF0_0002);
    let mut findings = 0;
    for n in 0..300 {
        let mut text = String::new();
        for _ in 0..1 + n % 12 {
            let keyword = keywords[random.below(keywords.len())];
            let keyword = if random.below(2) == 0 { keyword.to_ascii_uppercase() } else { keyword.to_owned() };
            let separator = [" = ", ":", "=\"", "_", "", "-", "\n", " ", ": '", "\t=> "][random.below(10)];
            let value = match random.below(5) {
                0 => random.string(ALNUM, 1, 20),
                1 => random.string(ALNUM, 30, 140),
                2 => random.string(b"abcdef0123456789-_.=+/", 8, 60),
                3 => keywords[random.below(keywords.len())].to_owned(),
                _ => String::new(),
            };
            let close = ["", "\"", "'", ";", "\n", " "][random.below(6)];
            text.push_str(&format!("{keyword}{separator}{value}{close}"));
        }
        findings += assert_same(&detector, "dense.txt", text.as_bytes()).len();
    }
    assert!(findings > 20, "{findings} findings");
}

#[test]
fn fixture_texts_give_the_reference_findings() {
    let detector = Detector::new(&Config::default_rules());
    let texts = fixture_texts();
    for text in &texts {
        assert_same(&detector, "fixture.txt", text.as_bytes());
    }
    // All of them in one file: many rules' candidates in one fragment, across lines.
    assert_same(&detector, "fixtures.txt", texts.join("\n").as_bytes());
}

#[test]
fn crate_sources_give_the_reference_findings() {
    let detector = Detector::new(&Config::default_rules());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("rules/gitleaks.toml")];
    for dir in ["src", "tests"] {
        paths.extend(std::fs::read_dir(root.join(dir)).unwrap().flatten().map(|entry| entry.path()).filter(|path| path.is_file()));
    }
    for path in paths {
        let text = std::fs::read(&path).unwrap();
        assert_same(&detector, &path.strip_prefix(root).unwrap().to_string_lossy(), &text);
    }
}
