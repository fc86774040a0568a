//! Kyverno's wildcards (IGLOU-EU/go-wildcard v1.0.3): `*` matches any run of characters, `?`
//! exactly one; everything else matches itself, case-sensitively, with no escapes. Used for
//! names, namespaces, kinds, subjects, label selectors, exception rules, value patterns,
//! metadata keys and JMESPath's `pattern_match`.

/// `wildcard.Match`: Palisade's wildcard matcher, which accepts the same language.
pub(crate) use palisade_core::wildcard::matches;

/// `wildcard.ContainsWildcard`.
pub(crate) fn contains_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The table of kyverno/kyverno 111e07bbecc66abfde36ab99969af22d7a961003
    // ext/wildcard/match_test.go (Apache-2.0).
    #[test]
    fn kyverno_match_table() {
        let cases = [
            ("*", "s3:GetObject", true),
            ("", "s3:GetObject", false),
            ("", "", true),
            ("s3:*", "s3:ListMultipartUploadParts", true),
            ("s3:ListBucketMultipartUploads", "s3:ListBucket", false),
            ("s3:ListBucket", "s3:ListBucket", true),
            ("s3:ListBucketMultipartUploads", "s3:ListBucketMultipartUploads", true),
            ("my-bucket/oo*", "my-bucket/oo", true),
            ("my-bucket/In*", "my-bucket/India/Karnataka/", true),
            ("my-bucket/In*", "my-bucket/Karnataka/India/", false),
            ("my-bucket/In*/Ka*/Ban", "my-bucket/India/Karnataka/Ban", true),
            ("my-bucket/In*/Ka*/Ban", "my-bucket/India/Karnataka/Ban/Ban/Ban/Ban/Ban", true),
            ("my-bucket/In*/Ka*/Ban", "my-bucket/India/Karnataka/Area1/Area2/Area3/Ban", true),
            ("my-bucket/In*/Ka*/Ban", "my-bucket/India/State1/State2/Karnataka/Area1/Area2/Area3/Ban", true),
            ("my-bucket/In*/Ka*/Ban", "my-bucket/India/Karnataka/Bangalore", false),
            ("my-bucket/In*/Ka*/Ban*", "my-bucket/India/Karnataka/Bangalore", true),
            ("my-bucket/*", "my-bucket/India", true),
            ("my-bucket/oo*", "my-bucket/odo", false),
            ("my-bucket?/abc*", "mybucket/abc", false),
            ("my-bucket?/abc*", "my-bucket1/abc", true),
            ("my-?-bucket/abc*", "my--bucket/abc", false),
            ("my-?-bucket/abc*", "my-1-bucket/abc", true),
            ("my-?-bucket/abc*", "my-k-bucket/abc", true),
            ("my??bucket/abc*", "mybucket/abc", false),
            ("my??bucket/abc*", "my4abucket/abc", true),
            ("my-bucket?abc*", "my-bucket/abc", true),
            ("my-bucket/abc?efg", "my-bucket/abcdefg", true),
            ("my-bucket/abc?efg", "my-bucket/abc/efg", true),
            ("my-bucket/abc????", "my-bucket/abc", false),
            ("my-bucket/abc????", "my-bucket/abcde", false),
            ("my-bucket/abc????", "my-bucket/abcdefg", true),
            ("my-bucket/abc?", "my-bucket/abc", false),
            ("my-bucket/abc?", "my-bucket/abcd", true),
            ("my-bucket/abc?", "my-bucket/abcde", false),
            ("my-bucket/mnop*?", "my-bucket/mnop", false),
            ("my-bucket/mnop*?", "my-bucket/mnopqrst/mnopqr", true),
            ("my-bucket/mnop*?", "my-bucket/mnopqrst/mnopqrs", true),
            ("my-bucket/mnop*?", "my-bucket/mnop", false),
            ("my-bucket/mnop*?", "my-bucket/mnopq", true),
            ("my-bucket/mnop*?", "my-bucket/mnopqr", true),
            ("my-bucket/mnop*?and", "my-bucket/mnopqand", true),
            ("my-bucket/mnop*?and", "my-bucket/mnopand", false),
            ("my-bucket/mnop*?and", "my-bucket/mnopqand", true),
            ("my-bucket/mnop*?", "my-bucket/mn", false),
            ("my-bucket/mnop*?", "my-bucket/mnopqrst/mnopqrs", true),
            ("my-bucket/mnop*??", "my-bucket/mnopqrst", true),
            ("my-bucket/mnop*qrst", "my-bucket/mnopabcdegqrst", true),
            ("my-bucket/mnop*?and", "my-bucket/mnopqand", true),
            ("my-bucket/mnop*?and", "my-bucket/mnopand", false),
            ("my-bucket/mnop*?and?", "my-bucket/mnopqanda", true),
            ("my-bucket/mnop*?and", "my-bucket/mnopqanda", false),
            ("my-?-bucket/abc*", "my-bucket/mnopqanda", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern:?} on {text:?}");
        }
    }

    #[test]
    fn wildcard_characters() {
        assert!(contains_wildcard("a?") && contains_wildcard("*") && !contains_wildcard("abc"));
    }
}
