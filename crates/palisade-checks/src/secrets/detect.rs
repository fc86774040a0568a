//! Recognising credentials written in plain text: a small set of well-known token formats, plus
//! key names that say "password" or "token" with a value that looks like one. Values are never
//! copied into messages; [`Redacted`] shows a few leading characters and the length.

use std::fmt;

/// Why a value looks like a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// A known token format, e.g. "an AWS access key ID".
    Format(&'static str),
    /// The key or variable name announces a credential and the value is a plausible one.
    KeyName,
}

impl fmt::Display for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format(what) => f.write_str(what),
            Self::KeyName => f.write_str("a credential (by its name)"),
        }
    }
}

/// Token formats recognised by a fixed prefix followed by at least `min` characters of a
/// token alphabet.
const PREFIXED: &[(&str, usize, fn(u8) -> bool, &str)] = &[
    ("AKIA", 16, upper_alnum, "an AWS access key ID"),
    ("ASIA", 16, upper_alnum, "an AWS temporary access key ID"),
    ("ghp_", 36, alnum, "a GitHub personal access token"),
    ("gho_", 36, alnum, "a GitHub OAuth token"),
    ("ghu_", 36, alnum, "a GitHub user-to-server token"),
    ("ghs_", 36, alnum, "a GitHub server-to-server token"),
    ("ghr_", 36, alnum, "a GitHub refresh token"),
    ("github_pat_", 22, word, "a GitHub fine-grained token"),
    ("glpat-", 20, url_safe, "a GitLab personal access token"),
    ("xoxb-", 10, url_safe, "a Slack bot token"),
    ("xoxp-", 10, url_safe, "a Slack user token"),
    ("sk_live_", 24, alnum, "a Stripe secret key"),
    ("AIza", 35, url_safe, "a Google API key"),
];

fn upper_alnum(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}

fn alnum(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

fn word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn url_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Name fragments that announce a credential.
const SECRET_NAMES: [&str; 10] = [
    "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "private_key", "privatekey", "credential",
];

/// Name endings that describe a credential rather than hold one (`TOKEN_FILE`, `SECRET_NAME`).
const DESCRIPTIVE_SUFFIXES: [&str; 10] =
    ["file", "path", "name", "ref", "enabled", "ttl", "length", "header", "_id", "url"];

/// Whether `value`, stored under `key`, looks like a credential.
pub fn detect(key: &str, value: &str) -> Option<Detection> {
    if let Some(what) = known_format(value) {
        return Some(Detection::Format(what));
    }
    (named_like_secret(key) && plausible_secret(value)).then_some(Detection::KeyName)
}

fn known_format(value: &str) -> Option<&'static str> {
    let bytes = value.as_bytes();
    for &(prefix, min, alphabet, what) in PREFIXED {
        for (start, _) in value.match_indices(prefix) {
            // Only a match at a boundary starts a token; measuring the run of the others would
            // make a value of repeated prefixes quadratic.
            if start != 0 && url_safe(bytes[start - 1]) {
                continue;
            }
            let run = bytes[start + prefix.len()..].iter().take_while(|&&b| alphabet(b)).take(min).count();
            if run == min {
                return Some(what);
            }
        }
    }
    if value.contains("-----BEGIN") && value.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    if value.split(|c: char| c.is_ascii_whitespace()).any(is_jwt) {
        return Some("a JSON Web Token");
    }
    if has_url_password(value) {
        return Some("a URL with a password");
    }
    None
}

/// Three base64url segments, the first two encoding JSON objects (`eyJ` is `{"`).
fn is_jwt(word: &str) -> bool {
    let mut parts = word.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    header.starts_with("eyJ")
        && payload.starts_with("eyJ")
        && signature.len() >= 16
        && [header, payload, signature].iter().all(|part| part.bytes().all(url_safe))
}

/// `scheme://user:password@host` with a literal password (not a `$VAR` placeholder).
fn has_url_password(value: &str) -> bool {
    value.match_indices("://").any(|(start, _)| {
        let rest = &value[start + 3..];
        let authority = rest.split(['/', ' ', '\n']).next().unwrap_or("");
        let Some((userinfo, _host)) = authority.rsplit_once('@') else { return false };
        userinfo
            .split_once(':')
            .is_some_and(|(_, password)| !password.is_empty() && !password.starts_with(['$', '{', '<']))
    })
}

fn named_like_secret(key: &str) -> bool {
    let contains = |needle: &str| key.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
    let ends_with = |suffix: &str| {
        key.len() >= suffix.len() && key.as_bytes()[key.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    SECRET_NAMES.iter().any(|name| contains(name)) && !DESCRIPTIVE_SUFFIXES.iter().any(|suffix| ends_with(suffix))
}

/// A single word of at least 8 characters that is not a path, a reference, a placeholder or a
/// boolean.
fn plausible_secret(value: &str) -> bool {
    value.len() >= 8
        && !value.contains(char::is_whitespace)
        && !value.starts_with(['/', '$', '{', '<', '%'])
        && !matches!(value.to_ascii_lowercase().as_str(), "changeme" | "password" | "disabled")
}

/// A value shown without revealing it: a few leading characters and its length.
pub struct Redacted<'a>(pub &'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let length = self.0.chars().count();
        // At most 4 characters, and never more than a quarter of the value.
        let shown: String = self.0.chars().take((length / 4).min(4)).collect();
        write!(f, "\"{shown}…\" ({length} chars)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_formats_are_recognised_anywhere_in_a_value() {
        let cases = [
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
            ("export TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub personal access token"),
            ("glpat-abcdefghij0123456789", "a GitLab personal access token"),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "a private key"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl", "a JSON Web Token"),
            ("postgres://app:s3cr3t@db:5432/app", "a URL with a password"),
        ];
        for (value, what) in cases {
            assert_eq!(detect("config", value), Some(Detection::Format(what)), "{value}");
        }
    }

    #[test]
    fn near_misses_are_not_tokens() {
        for value in [
            "AKIA-short",
            "XAKIAIOSFODNN7EXAMPLE",
            "postgres://app:${DB_PASSWORD}@db/app",
            "https://example.com/path@v2",
            "eyJ.eyJ.x",
        ] {
            assert_eq!(detect("config", value), None, "{value}");
        }
    }

    #[test]
    fn key_names_flag_plausible_values_only() {
        assert_eq!(detect("DB_PASSWORD", "hunter2hunter2"), Some(Detection::KeyName));
        assert_eq!(detect("apiKey", "Zx9-k2Lq8vP"), Some(Detection::KeyName));
        assert_eq!(detect("DB_PASSWORD", "short"), None);
        assert_eq!(detect("DB_PASSWORD", "/etc/secrets/db"), None);
        assert_eq!(detect("DB_PASSWORD", "$(DB_PASS)"), None);
        assert_eq!(detect("TOKEN_FILE", "/var/run/token"), None);
        assert_eq!(detect("SECRET_NAME", "db-credentials"), None);
        assert_eq!(detect("LOG_LEVEL", "verbose-debugging"), None);
    }

    #[test]
    fn redaction_shows_at_most_a_quarter_and_the_length() {
        assert_eq!(Redacted("AKIAIOSFODNN7EXAMPLE").to_string(), "\"AKIA…\" (20 chars)");
        assert_eq!(Redacted("hunter22").to_string(), "\"hu…\" (8 chars)");
        assert_eq!(Redacted("abc").to_string(), "\"…\" (3 chars)");
    }
}
