//! [`ImageVerdicts`]: what the background scanner found, read on the request path. A lookup
//! takes one shard's read lock for a hash probe and never scans, waits for I/O or allocates
//! beyond an `Arc` clone; writers (the scanner threads) hold a shard's write lock for one
//! insertion and, when the shard is full, one pass over it to evict the least recently used.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use palisade_core::Severity;

use super::scanner::{ImageVerdict, ImageVulnerability};
use super::settings::ImagePolicySettings;
use crate::webhook::truncate;

/// The worst vulnerabilities kept per image: those a denial or warning names.
pub const LISTED_VULNERABILITIES: usize = 3;
/// Text from a scan (ids, package names, versions, failure reasons) is cut at this length:
/// an image's contents are as hostile as any request.
const MAX_FIELD_CHARS: usize = 128;
const MAX_REASON_CHARS: usize = 512;
/// Fewer shards for small caches, so that eviction stays least-recently-used over the whole.
const ENTRIES_PER_SHARD: usize = 256;
const MAX_SHARDS: usize = 16;

/// An image's vulnerabilities that count under the policy (severity at or above the
/// threshold, with a fix when `fixableOnly`), reduced to what decisions show.
#[derive(Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The digest the scanned reference resolved to.
    pub digest: Option<String>,
    /// How many vulnerabilities count.
    pub counted: usize,
    /// The worst of them, most severe first, at most [`LISTED_VULNERABILITIES`].
    pub worst: Vec<ImageVulnerability>,
}

impl Judgement {
    pub fn of(verdict: ImageVerdict, threshold: Severity, fixable_only: bool) -> Self {
        let mut counted: Vec<ImageVulnerability> = verdict
            .vulnerabilities
            .into_iter()
            .filter(|vulnerability| vulnerability.severity >= threshold && (!fixable_only || vulnerability.fixed.is_some()))
            .collect();
        // Most severe first; among equals, those with a fix (actionable) first, then by id so
        // the message is the same on every replica.
        counted.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| b.fixed.is_some().cmp(&a.fixed.is_some())).then_with(|| a.id.cmp(&b.id))
        });
        let total = counted.len();
        counted.truncate(LISTED_VULNERABILITIES);
        let cut = |text: String| truncate(text, MAX_FIELD_CHARS);
        let worst = counted
            .into_iter()
            .map(|vulnerability| ImageVulnerability {
                id: cut(vulnerability.id),
                severity: vulnerability.severity,
                package: cut(vulnerability.package),
                installed: cut(vulnerability.installed),
                fixed: vulnerability.fixed.map(cut),
            })
            .collect();
        Self { digest: verdict.digest.map(cut), counted: total, worst }
    }
}

/// What the cache says about an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A verdict decides; `rescan` when it is older than the TTL and a scan should refresh it.
    Verdict { judgement: Arc<Judgement>, rescan: bool },
    /// The last scan failed; `retry` once the failure is older than the failure TTL.
    Failed { reason: Arc<str>, retry: bool },
    /// Never scanned, evicted, or its verdict is older than the maximum age.
    Missing,
}

#[derive(Clone, Debug)]
enum Outcome {
    Judged(Arc<Judgement>),
    Failed(Arc<str>),
}

#[derive(Debug)]
struct Entry {
    outcome: Outcome,
    /// When `outcome` was obtained.
    scanned_at: Instant,
    /// No new scan is asked for before this.
    retry_after: Instant,
    /// Nanoseconds since the cache's epoch, updated under the read lock.
    last_used: AtomicU64,
}

type Shard = RwLock<HashMap<Arc<str>, Entry>>;

/// Image verdicts by image reference as written in pods, and by the digest each resolved to.
pub struct ImageVerdicts {
    shards: Box<[Shard]>,
    per_shard: usize,
    hasher: RandomState,
    epoch: Instant,
    threshold: Severity,
    fixable_only: bool,
    ttl: Duration,
    max_age: Duration,
    failure_ttl: Duration,
}

impl ImageVerdicts {
    pub fn new(settings: &ImagePolicySettings) -> Self {
        let capacity = settings.cache_entries.max(1);
        let shards = (capacity / ENTRIES_PER_SHARD).clamp(1, MAX_SHARDS);
        Self {
            shards: (0..shards).map(|_| RwLock::default()).collect(),
            // Rounded down: the bound is never exceeded.
            per_shard: (capacity / shards).max(1),
            hasher: RandomState::new(),
            epoch: Instant::now(),
            threshold: settings.severity,
            fixable_only: settings.fixable_only,
            ttl: settings.ttl,
            max_age: settings.max_age,
            failure_ttl: settings.failure_ttl,
        }
    }

    /// What decides for `image` at `now`: its own entry, else (when the reference pins a
    /// digest) the verdict of any reference that resolved to that digest.
    pub fn lookup(&self, image: &str, now: Instant) -> Lookup {
        let own = self.get(image, now);
        if matches!(own, Lookup::Verdict { .. }) {
            return own;
        }
        match pinned_digest(image).map(|digest| self.get(digest, now)) {
            Some(by_digest @ Lookup::Verdict { .. }) => by_digest,
            _ => own,
        }
    }

    /// Records a scan of `image` finished at `now`. A verdict is kept under the reference and
    /// under its digest. A failure replaces no verdict still within the maximum age: it only
    /// holds the next attempt back by the failure TTL.
    pub fn record(&self, image: &str, result: Result<ImageVerdict, String>, now: Instant) {
        match result {
            Ok(verdict) => {
                let judgement = Arc::new(Judgement::of(verdict, self.threshold, self.fixable_only));
                let outcome = Outcome::Judged(judgement.clone());
                if let Some(digest) = &judgement.digest {
                    self.insert(digest, outcome.clone(), now, now + self.ttl);
                }
                self.insert(image, outcome, now, now + self.ttl);
            }
            Err(reason) => {
                let retry_after = now + self.failure_ttl;
                let mut shard = self.write(image);
                if let Some(entry) = shard.get_mut(image) {
                    if matches!(entry.outcome, Outcome::Judged(_)) && now.saturating_duration_since(entry.scanned_at) < self.max_age {
                        entry.retry_after = retry_after;
                        return;
                    }
                }
                drop(shard);
                self.insert(image, Outcome::Failed(truncate(reason, MAX_REASON_CHARS).into()), now, retry_after);
            }
        }
    }

    /// Entries held (references and digests).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| read(shard).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &str, now: Instant) -> Lookup {
        let shard = read(self.shard(key));
        let Some(entry) = shard.get(key) else { return Lookup::Missing };
        entry.last_used.store(self.tick(now), Ordering::Relaxed);
        match &entry.outcome {
            Outcome::Judged(_) if now.saturating_duration_since(entry.scanned_at) >= self.max_age => Lookup::Missing,
            Outcome::Judged(judgement) => Lookup::Verdict { judgement: judgement.clone(), rescan: now >= entry.retry_after },
            Outcome::Failed(reason) => Lookup::Failed { reason: reason.clone(), retry: now >= entry.retry_after },
        }
    }

    fn insert(&self, key: &str, outcome: Outcome, scanned_at: Instant, retry_after: Instant) {
        let mut shard = self.write(key);
        if shard.len() >= self.per_shard && !shard.contains_key(key) {
            // Failures go first, and a failure never evicts a verdict: anyone who may create
            // pods can make scans fail (made-up image names), and must not thereby push the
            // verdicts of real images out.
            let incoming_is_verdict = matches!(outcome, Outcome::Judged(_));
            let victim = shard
                .iter()
                .filter(|(_, entry)| incoming_is_verdict || matches!(entry.outcome, Outcome::Failed(_)))
                .min_by_key(|(_, entry)| (matches!(entry.outcome, Outcome::Judged(_)), entry.last_used.load(Ordering::Relaxed)))
                .map(|(key, _)| key.clone());
            match victim {
                Some(victim) => {
                    shard.remove(&victim);
                }
                None => return,
            }
        }
        let entry = Entry { outcome, scanned_at, retry_after, last_used: AtomicU64::new(self.tick(scanned_at)) };
        shard.insert(key.into(), entry);
    }

    fn shard(&self, key: &str) -> &Shard {
        &self.shards[(self.hasher.hash_one(key) % self.shards.len() as u64) as usize]
    }

    fn write(&self, key: &str) -> RwLockWriteGuard<'_, HashMap<Arc<str>, Entry>> {
        self.shard(key).write().unwrap_or_else(|poison| poison.into_inner())
    }

    fn tick(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}

fn read(shard: &Shard) -> RwLockReadGuard<'_, HashMap<Arc<str>, Entry>> {
    shard.read().unwrap_or_else(|poison| poison.into_inner())
}

/// The digest a reference pins (`repo@sha256:…` gives `sha256:…`).
pub fn pinned_digest(image: &str) -> Option<&str> {
    image.rsplit_once('@').map(|(_, digest)| digest).filter(|digest| digest.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vulnerability(id: &str, severity: Severity, fixed: Option<&str>) -> ImageVulnerability {
        ImageVulnerability { id: id.into(), severity, package: "openssl".into(), installed: "3.0.1".into(), fixed: fixed.map(Into::into) }
    }

    fn verdict(digest: Option<&str>, vulnerabilities: Vec<ImageVulnerability>) -> ImageVerdict {
        ImageVerdict { digest: digest.map(Into::into), vulnerabilities }
    }

    fn settings() -> ImagePolicySettings {
        ImagePolicySettings {
            ttl: Duration::from_secs(60),
            max_age: Duration::from_secs(600),
            failure_ttl: Duration::from_secs(10),
            ..ImagePolicySettings::default()
        }
    }

    fn judged(lookup: Lookup) -> (usize, bool) {
        match lookup {
            Lookup::Verdict { judgement, rescan } => (judgement.counted, rescan),
            other => panic!("expected a verdict, got {other:?}"),
        }
    }

    #[test]
    fn judgements_keep_what_counts_worst_first() {
        let all = vec![
            vulnerability("CVE-3", Severity::High, Some("3.0.3")),
            vulnerability("CVE-1", Severity::Critical, None),
            vulnerability("CVE-2", Severity::Critical, Some("3.0.2")),
            vulnerability("CVE-4", Severity::Medium, Some("3.0.4")),
            vulnerability("CVE-5", Severity::High, Some("3.0.5")),
        ];
        let fixable = Judgement::of(verdict(None, all.clone()), Severity::High, true);
        assert_eq!(fixable.counted, 3);
        assert_eq!(fixable.worst.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["CVE-2", "CVE-3", "CVE-5"]);
        let any = Judgement::of(verdict(None, all.clone()), Severity::Critical, false);
        // A fix first among equals.
        assert_eq!((any.counted, any.worst[0].id.as_str(), any.worst[1].id.as_str()), (2, "CVE-2", "CVE-1"));
        assert_eq!(Judgement::of(verdict(None, all), Severity::Low, false).counted, 5);
        let hostile = Judgement::of(verdict(None, vec![vulnerability(&"X".repeat(10_000), Severity::High, Some("1"))]), Severity::Low, true);
        assert_eq!(hostile.worst[0].id.chars().count(), MAX_FIELD_CHARS);
    }

    #[test]
    fn fresh_then_stale_then_past_the_maximum_age() {
        let cache = ImageVerdicts::new(&settings());
        let start = Instant::now();
        assert_eq!(cache.lookup("nginx:1.25", start), Lookup::Missing);
        cache.record("nginx:1.25", Ok(verdict(None, vec![vulnerability("CVE-1", Severity::Critical, Some("2"))])), start);
        assert_eq!(judged(cache.lookup("nginx:1.25", start + Duration::from_secs(59))), (1, false));
        assert_eq!(judged(cache.lookup("nginx:1.25", start + Duration::from_secs(60))), (1, true));
        assert_eq!(cache.lookup("nginx:1.25", start + Duration::from_secs(600)), Lookup::Missing);
    }

    #[test]
    fn failures_are_remembered_briefly_and_never_replace_a_verdict() {
        let cache = ImageVerdicts::new(&settings());
        let start = Instant::now();
        cache.record("broken:1", Err("registry said 500".into()), start);
        assert_eq!(cache.lookup("broken:1", start + Duration::from_secs(9)), Lookup::Failed { reason: "registry said 500".into(), retry: false });
        assert_eq!(cache.lookup("broken:1", start + Duration::from_secs(10)), Lookup::Failed { reason: "registry said 500".into(), retry: true });

        cache.record("app:1", Ok(verdict(None, Vec::new())), start);
        let rescan = start + Duration::from_secs(70);
        cache.record("app:1", Err("timeout".into()), rescan);
        // The old verdict keeps deciding; the next attempt waits for the failure TTL.
        assert_eq!(judged(cache.lookup("app:1", rescan + Duration::from_secs(1))), (0, false));
        assert_eq!(judged(cache.lookup("app:1", rescan + Duration::from_secs(10))), (0, true));
        // Past the maximum age a failure is all there is.
        let late = start + Duration::from_secs(700);
        cache.record("app:1", Err("timeout".into()), late);
        assert!(matches!(cache.lookup("app:1", late), Lookup::Failed { retry: false, .. }));
    }

    #[test]
    fn a_verdict_answers_for_every_reference_pinning_its_digest() {
        let cache = ImageVerdicts::new(&settings());
        let now = Instant::now();
        let digest = "sha256:4f1c2b0c8ad1a8e4d1ed1a0e3c8b46d5f8c1e0d2b9a7f6e5d4c3b2a1f0e9d8c7";
        cache.record("nginx:1.25", Ok(verdict(Some(digest), vec![vulnerability("CVE-1", Severity::High, Some("2"))])), now);
        assert_eq!(judged(cache.lookup(&format!("mirror.example/nginx@{digest}"), now)), (1, false));
        assert_eq!(cache.lookup("mirror.example/nginx@sha256:0000", now), Lookup::Missing);
        // A failure of the pinned reference itself does not hide the digest's verdict.
        cache.record(&format!("mirror.example/nginx@{digest}"), Err("unreachable".into()), now);
        assert_eq!(judged(cache.lookup(&format!("mirror.example/nginx@{digest}"), now)), (1, false));
        assert_eq!(pinned_digest("nginx:1.25"), None);
        assert_eq!(pinned_digest("localhost:5000/app@sha256:ab"), Some("sha256:ab"));
    }

    #[test]
    fn failures_are_evicted_first_and_never_evict_a_verdict() {
        let cache = ImageVerdicts::new(&ImagePolicySettings { cache_entries: 2, ..settings() });
        let now = Instant::now();
        cache.record("real:1", Ok(verdict(None, Vec::new())), now);
        cache.record("made-up:1", Err("not found".into()), now);
        // A newer failure replaces the older failure, not the verdict.
        cache.record("made-up:2", Err("not found".into()), now + Duration::from_secs(1));
        assert_eq!(cache.lookup("made-up:1", now), Lookup::Missing);
        judged(cache.lookup("real:1", now));
        cache.record("real:2", Ok(verdict(None, Vec::new())), now + Duration::from_secs(2));
        // With only verdicts held, a failure is not kept.
        cache.record("made-up:3", Err("not found".into()), now + Duration::from_secs(3));
        assert_eq!(cache.lookup("made-up:3", now + Duration::from_secs(3)), Lookup::Missing);
        judged(cache.lookup("real:1", now + Duration::from_secs(3)));
        judged(cache.lookup("real:2", now + Duration::from_secs(3)));
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let cache = ImageVerdicts::new(&ImagePolicySettings { cache_entries: 3, ..settings() });
        let start = Instant::now();
        let at = |seconds| start + Duration::from_secs(seconds);
        for (index, image) in ["a:1", "b:1", "c:1"].into_iter().enumerate() {
            cache.record(image, Ok(verdict(None, Vec::new())), at(index as u64));
        }
        // `a` used most recently, so `b` is the one evicted.
        judged(cache.lookup("a:1", at(5)));
        cache.record("d:1", Ok(verdict(None, Vec::new())), at(6));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.lookup("b:1", at(7)), Lookup::Missing);
        for image in ["a:1", "c:1", "d:1"] {
            judged(cache.lookup(image, at(7)));
        }
        let large = ImageVerdicts::new(&ImagePolicySettings { cache_entries: 1000, ..settings() });
        for index in 0..5000 {
            large.record(&format!("image:{index}"), Ok(verdict(None, Vec::new())), start);
        }
        assert!(large.len() <= 1000 && large.len() > 900, "{}", large.len());
    }
}
