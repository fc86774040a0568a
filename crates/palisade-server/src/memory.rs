//! The memory this process may use, as its cgroup says, so that servers size their concurrency
//! to fit the container's limit.

/// The cgroup memory limit in bytes (v2 `memory.max`, else v1 `memory.limit_in_bytes`), or
/// `None` when there is none or it cannot be read.
pub fn cgroup_memory_limit() -> Option<u64> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .into_iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| parse_limit(&text))
}

/// `max` (v2) and v1's "unlimited" (a page-rounded `i64::MAX`) mean no limit.
fn parse_limit(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse::<u64>().ok().filter(|limit| *limit < 1 << 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_cgroups_write_them() {
        assert_eq!(parse_limit("536870912\n"), Some(512 << 20));
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("garbage"), None);
    }
}
