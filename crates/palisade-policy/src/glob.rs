//! Shell-style globs for exception and rule patterns: `*` matches any run of characters
//! (including `/`), `?` one character; everything else matches itself.

pub fn matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and the text position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*", ""));
        assert!(matches("dev-*", "dev-team"));
        assert!(matches("workload/*", "workload/image-tag-latest"));
        assert!(matches("*-latest", "workload/image-tag-latest"));
        assert!(matches("a*b*c", "a-x-b-y-c"));
        assert!(matches("ns?", "ns1"));
        assert!(!matches("ns?", "ns"));
        assert!(!matches("dev-*", "prod-dev-x"));
        assert!(!matches("a*b", "a-x-c"));
        assert!(matches("exact", "exact") && !matches("exact", "exactly"));
    }
}
