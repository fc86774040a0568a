//! Content digests (`sha256:…`): checked before they become file names, computed while streaming.

use sha2::{Digest as _, Sha256};

/// A digest as the OCI image spec writes it: `algorithm:encoded`. Only what is safe as a file
/// name and path component passes, so a hostile index cannot point outside `blobs/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Digest<'a> {
    pub algorithm: &'a str,
    pub encoded: &'a str,
}

impl<'a> Digest<'a> {
    /// Parses and validates: sha256 is 64 lowercase hex digits, sha512 128; other algorithms
    /// must at least be lowercase alphanumeric with hex or base64url-safe characters.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let (algorithm, encoded) = text.split_once(':').ok_or_else(|| format!("{text:?} is not a digest (algorithm:hex)"))?;
        let algorithm_ok = !algorithm.is_empty() && algorithm.len() <= 32 && algorithm.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        let hex_ok = |len: usize| encoded.len() == len && encoded.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let encoded_ok = match algorithm {
            "sha256" => hex_ok(64),
            "sha512" => hex_ok(128),
            _ => !encoded.is_empty() && encoded.len() <= 256 && encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)),
        };
        if algorithm_ok && encoded_ok { Ok(Self { algorithm, encoded }) } else { Err(format!("{text:?} is not a valid digest")) }
    }

    pub fn is_sha256(&self) -> bool {
        self.algorithm == "sha256"
    }
}

/// `sha256:` and the lowercase hex of a finished hash.
pub(crate) fn sha256_text(hasher: Sha256) -> String {
    let bytes = hasher.finalize();
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in bytes.iter() {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 15)]));
    }
    text
}

/// The `sha256:…` digest of a byte slice.
pub(crate) fn sha256_of(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    sha256_text(hasher)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_validated_before_use_as_paths() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(Digest::parse(&good).unwrap(), Digest { algorithm: "sha256", encoded: &good[7..] });
        for bad in ["sha256", "sha256:abc", &format!("sha256:{}", "A".repeat(64)), "sha256:../../etc/passwd", "sha1:../x", ":abc", "x/y:abc"] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(sha256_of(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
