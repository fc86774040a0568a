//! Encodings and digests: base64 and hex hashes of a string's bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jmespath::Runtime;
use serde_json::Value;
use sha2::Digest;

use super::{Arg, define, string_arg};

pub(super) fn register(runtime: &mut Runtime) {
    define(runtime, "base64_decode", &[Arg::String], |args| {
        // Go's decoder skips line breaks; it refuses missing padding, as this engine does.
        let text: String = string_arg("base64_decode", args, 0)?.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        let bytes = STANDARD.decode(text.as_bytes()).map_err(|error| match error {
            base64::DecodeError::InvalidByte(offset, _) | base64::DecodeError::InvalidLastSymbol(offset, _) => {
                format!("illegal base64 data at input byte {offset}")
            }
            _ => format!("illegal base64 data at input byte {}", text.len()),
        })?;
        // Go keeps any bytes in a string; JSON cannot, and Kyverno's output replaces invalid
        // UTF-8 the same way when it serializes.
        Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    });
    define(runtime, "base64_encode", &[Arg::String], |args| Ok(Value::String(STANDARD.encode(string_arg("base64_encode", args, 0)?))));
    define(runtime, "sha256", &[Arg::String], |args| Ok(hex_digest::<sha2::Sha256>(string_arg("sha256", args, 0)?)));
    define(runtime, "sha1", &[Arg::String], |args| Ok(hex_digest::<sha1::Sha1>(string_arg("sha1", args, 0)?)));
    define(runtime, "md5", &[Arg::String], |args| Ok(hex_digest::<md5::Md5>(string_arg("md5", args, 0)?)));
}

fn hex_digest<D: Digest>(text: &str) -> Value {
    let digest = D::digest(text.as_bytes());
    Value::String(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}
