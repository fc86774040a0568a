//! How many reviews may run at once. A review holds its request body, the decoded object and
//! its findings; the count is chosen so that that many maximal reviews fit in the memory the
//! process may use, on top of what it needs at rest.

/// Peak resident memory a review takes per byte of request body, measured on the worst shape
/// found (docs/admission.md, "Resource bounds"): a 3.4 MB review of 19,787 privileged
/// containers peaks 216 to 278 MiB above rest over five runs (up to 82 bytes per byte, mostly
/// findings); a 1.7M-element array takes about 45. Rounded up.
pub const PEAK_BYTES_PER_BODY_BYTE: u64 = 90;

/// Resident memory of the webhook at rest (runtime, rule catalog, TLS, buffers): 23 MiB
/// measured, with room for connection buffers under load.
pub const BASELINE_BYTES: u64 = 48 << 20;

/// Used when neither a cgroup limit nor `--memory-limit` is known.
pub const DEFAULT_REVIEW_SLOTS: usize = 2;

/// The number of reviews that fit in `memory_limit` bytes when each request may carry up to
/// `body_limit` bytes; at least one.
pub fn review_slots(memory_limit: u64, body_limit: usize) -> usize {
    let per_review = (body_limit as u64).saturating_mul(PEAK_BYTES_PER_BODY_BYTE).max(1);
    let slots = memory_limit.saturating_sub(BASELINE_BYTES) / per_review;
    usize::try_from(slots).unwrap_or(usize::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_memory_left_after_the_baseline() {
        let per_review = palisade_server::DEFAULT_BODY_LIMIT as u64 * PEAK_BYTES_PER_BODY_BYTE;
        assert_eq!(review_slots(BASELINE_BYTES + 3 * per_review + 1, palisade_server::DEFAULT_BODY_LIMIT), 3);
        assert_eq!(review_slots(BASELINE_BYTES + 3 * per_review - 1, palisade_server::DEFAULT_BODY_LIMIT), 2);
        // Too little memory still serves, one review at a time.
        assert_eq!(review_slots(1 << 20, palisade_server::DEFAULT_BODY_LIMIT), 1);
        assert_eq!(review_slots(u64::MAX, 0), usize::try_from(u64::MAX - BASELINE_BYTES).unwrap_or(usize::MAX));
    }
}
