//! The two metadata files of a Java archive, read as Syft reads them: `META-INF/MANIFEST.MF`
//! (sections of `Key: value` lines, a line starting with a space continuing the previous value)
//! and Maven's `pom.properties` (`key=value` or `key:value` lines, `#` comments).

/// Go's `bufio.Scanner`, which Syft reads both files with, fails on a line this long.
const MAX_LINE: usize = 64 * 1024;

/// A manifest: the main section, then the per-entry sections.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Manifest {
    pub(super) sections: Vec<Vec<(String, String)>>,
}

impl Manifest {
    /// Reads a manifest; `None` when a line is too long to read (Syft then ignores the manifest).
    pub(super) fn parse(content: &[u8]) -> Option<Self> {
        let mut sections: Vec<Vec<(String, String)>> = Vec::new();
        let mut in_section = false;
        for line in lines(content)? {
            if line.is_empty() {
                in_section = false;
                continue;
            }
            if let Some(continuation) = line.strip_prefix(' ') {
                if in_section {
                    if let Some((_, value)) = sections.last_mut().and_then(|section| section.last_mut()) {
                        value.push_str(continuation.trim());
                    }
                }
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            if !in_section {
                sections.push(Vec::new());
                in_section = true;
            }
            if let Some(section) = sections.last_mut() {
                section.push((key.to_owned(), value.trim().to_owned()));
            }
        }
        Some(Self { sections })
    }

    /// The first value of a key in the main section (`None` when the key is not there).
    pub(super) fn main(&self, key: &str) -> Option<&str> {
        self.sections.first().and_then(|section| first(section, key))
    }

    /// [`Manifest::main`], empty when the key is not there.
    pub(super) fn main_value(&self, key: &str) -> &str {
        self.main(key).unwrap_or_default()
    }

    /// The first non-empty value of a key, looking in the main section, then in each other.
    pub(super) fn any_section(&self, key: &str) -> &str {
        self.sections.iter().filter_map(|section| first(section, key)).find(|value| !value.is_empty()).unwrap_or_default()
    }

    /// Every value of a key, the main section's first (each section's first occurrence).
    pub(super) fn all_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.sections.iter().filter_map(move |section| first(section, key))
    }
}

fn first<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
    section.iter().find(|(found, _)| found == key).map(|(_, value)| value.as_str())
}

/// The lines of a file as Go's `bufio.Scanner` gives them (a `\r` before the newline dropped),
/// `None` when one is too long.
fn lines(content: &[u8]) -> Option<Vec<String>> {
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    if content.is_empty() {
        return Some(Vec::new());
    }
    content
        .split(|&byte| byte == b'\n')
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (line.len() < MAX_LINE).then(|| String::from_utf8_lossy(line).into_owned())
        })
        .collect()
}

/// Maven's coordinates of a library, from its `pom.properties`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct PomProperties {
    pub(super) group_id: String,
    pub(super) artifact_id: String,
    pub(super) version: String,
}

impl PomProperties {
    /// Reads a `pom.properties`; `None` for a line that is neither a comment nor `key=value` (Syft
    /// then skips the file). Keys match regardless of case, as Syft's decoder matches them.
    pub(super) fn parse(content: &[u8]) -> Option<Self> {
        let mut properties: Vec<(String, String)> = Vec::new();
        for line in lines(content)? {
            if line.trim().is_empty() || line.trim_start_matches(' ').starts_with('#') {
                continue;
            }
            let split = line.find(['=', ':'])?;
            let (key, value) = (line[..split].trim().to_owned(), line[split + 1..].trim().to_owned());
            match properties.iter_mut().find(|(existing, _)| *existing == key) {
                Some(existing) => existing.1 = value,
                None => properties.push((key, value)),
            }
        }
        let value = |name: &str| {
            properties
                .iter()
                .find(|(key, _)| key == name)
                .or_else(|| properties.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)))
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        Some(Self { group_id: value("groupId"), artifact_id: value("artifactId"), version: value("version") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_sections_and_continuations() {
        let manifest = Manifest::parse(
            b"Manifest-Version: 1.0\r\nImplementation-Title: a very long title that the jar tool folded onto a se\r\n cond line\r\n continued\r\nno colon here\r\n: no key\r\n\r\nName: org/example/\r\nImplementation-Version: 2.0\r\n",
        )
        .unwrap();
        assert_eq!(manifest.main("Implementation-Title"), Some("a very long title that the jar tool folded onto a second linecontinued"));
        assert_eq!(manifest.main("Implementation-Version"), None);
        assert_eq!(manifest.any_section("Implementation-Version"), "2.0");
        assert_eq!(manifest.sections.len(), 2);
        assert_eq!(Manifest::parse(&[b'a'; MAX_LINE]), None);
        assert_eq!(Manifest::parse(b" leading continuation\n"), Some(Manifest::default()));
    }

    #[test]
    fn pom_properties_as_maven_writes_them_and_otherwise() {
        let properties = PomProperties::parse(b"#Generated by Maven\n#Tue Jan 02 03:04:05 UTC 2024\ngroupId=org.slf4j\nartifactId=slf4j-api\nversion=2.0.9\n").unwrap();
        assert_eq!(properties, PomProperties { group_id: "org.slf4j".into(), artifact_id: "slf4j-api".into(), version: "2.0.9".into() });
        let properties = PomProperties::parse(b"  # indented comment\r\nversion:1.0\r\nGROUPID = g\r\nartifactId=a=b\r\n").unwrap();
        assert_eq!(properties, PomProperties { group_id: "g".into(), artifact_id: "a=b".into(), version: "1.0".into() });
        assert_eq!(PomProperties::parse(b"groupId=g\n! a properties comment Syft does not know\n"), None);
    }
}
