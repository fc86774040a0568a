//! Image references and URLs: `image_normalize` and `is_external_url`.

use std::net::IpAddr;
use std::sync::LazyLock;

use jmespath::Runtime;
use regex::Regex;
use serde_json::Value;

use super::{Arg, define, failure, string_arg};

/// Kyverno's default configuration: images without a registry are on docker.io, and the
/// default registry is written into normalized references.
const DEFAULT_REGISTRY: &str = "docker.io";

/// github.com/distribution/reference's grammar: `[domain/]path[:tag][@digest]`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"(?:{domain_component}(?:\.{domain_component})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?");
    let path_component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    let tag = r"[\w][\w.-]{0,127}";
    let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    let pattern = format!(r"^(?:({domain})/)?({path_component}(?:/{path_component})*)(?::({tag}))?(?:@({digest}))?$");
    Regex::new(&pattern).unwrap_or_else(|_| unreachable!("the reference grammar is a valid regex"))
});

pub(super) fn register(runtime: &mut Runtime) {
    define(runtime, "image_normalize", &[Arg::String], |args| normalize_image(string_arg("image_normalize", args, 0)?).map(Value::String));
    define(runtime, "is_external_url", &[Arg::String], |args| is_external_url(string_arg("is_external_url", args, 0)?).map(Value::Bool));
}

fn normalize_image(image: &str) -> Result<String, String> {
    let full = with_default_registry(image);
    let invalid = || {
        failure(
            "image_normalize",
            format!("bad image: {full}, defaultRegistry: {DEFAULT_REGISTRY}, enableDefaultRegistryMutation: true: invalid reference format"),
        )
    };
    let captures = REFERENCE.captures(&full).ok_or_else(invalid)?;
    let name_length = captures.get(2).map_or(0, |m| m.end());
    if name_length > 255 {
        return Err(invalid());
    }
    let text = |index| captures.get(index).map(|m| m.as_str());
    let registry = text(1).unwrap_or("");
    let path = text(2).unwrap_or("");
    let prefix = if registry.is_empty() { path.to_owned() } else { format!("{registry}/{path}") };
    Ok(match (text(4), text(3)) {
        (Some(digest), _) => format!("{prefix}@{digest}"),
        (None, Some(tag)) => format!("{prefix}:{tag}"),
        (None, None) => format!("{prefix}:latest"),
    })
}

/// Kyverno's `addDefaultRegistry`: a first component without `.` or `:`, not `localhost` and
/// all lower case is a Docker Hub path, not a registry.
fn with_default_registry(image: &str) -> String {
    match image.find('/') {
        Some(slash) => {
            let first = &image[..slash];
            if first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first {
                image.to_owned()
            } else {
                format!("{DEFAULT_REGISTRY}/{image}")
            }
        }
        None => format!("{DEFAULT_REGISTRY}/{image}"),
    }
}

/// Literal IP addresses and `localhost` (which every resolver maps to loopback, RFC 6761) can
/// be answered; other names Kyverno resolves through DNS, whose answer depends on where and when
/// it runs, so they are refused.
fn is_external_url(url: &str) -> Result<bool, String> {
    let host = host_of(url);
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(false);
    }
    match host.parse::<IpAddr>() {
        Ok(address) => Ok(!(is_loopback(&address) || is_private(&address))),
        Err(_) => Err(failure("is_external_url", format!("resolving host {host:?} is not supported by Palisade (Kyverno asks DNS)"))),
    }
}

/// The host of a URL as Go's `url.Parse(...).Hostname()` gives it: no user, port or brackets.
fn host_of(url: &str) -> &str {
    let Some((_, after_scheme)) = url.split_once("//") else {
        return "";
    };
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

fn as_ipv4(address: &IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*address, IpAddr::V4),
        IpAddr::V4(_) => *address,
    }
}

fn is_loopback(address: &IpAddr) -> bool {
    as_ipv4(address).is_loopback()
}

/// Go's `IP.IsPrivate`: RFC 1918 and RFC 4193 (fc00::/7).
fn is_private(address: &IpAddr) -> bool {
    match as_ipv4(address) {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xfe00 == 0xfc00,
    }
}
