//! PLACEHOLDER: being written (see /work/coord/vuln.md).

use std::cmp::Ordering;

pub fn compare(a: &str, b: &str) -> Ordering {
    a.cmp(b)
}

pub fn is_valid(version: &str) -> bool {
    !version.is_empty()
}
