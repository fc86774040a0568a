//! Palisade's validating admission webhook: `palisade serve admission`.
//!
//! Each `POST /validate` carries an `admission.k8s.io/v1` AdmissionReview. The request's object
//! goes through the same single-object rules as `palisade scan` (Pod Security Standards at the
//! namespace's level and version, workload rules, OperationPolicy rules), through
//! [`palisade_scan::Engine::check_object`], with the namespace gates decided at once from the
//! namespace's labels: live labels from the API ([`kube`]) when a cluster is reachable, else the
//! configured levels, else the default.
//!
//! - CREATE and UPDATE are evaluated, and the `ephemeralcontainers` subresource; DELETE,
//!   CONNECT and other subresources are allowed untouched.
//! - On a Pod UPDATE only findings on fields the update changed count: a pod's spec is
//!   immutable but for a few fields, so older violations cannot be fixed by that update.
//! - Exempt namespaces, usernames and runtime classes (as PodSecurityConfiguration's) are
//!   admitted without evaluation.
//! - Each finding's rule has a [`Mode`]: `enforce` denies with a message listing every
//!   violation and its field, `warn` admits with `AdmissionResponse.warnings`, `audit` admits
//!   and records the violation in the decision log and the audit annotations.
//! - Every decision is one JSON line; `dryRun` requests get the same answer and their line
//!   says `"dryRun": true` (the webhook has no other side effects).
//! - A body that is not an AdmissionReview is answered 400 with the reason, never a crash.
//! - With an [`image_policy::ImagePolicy`] attached, each container's image is judged by its
//!   known vulnerabilities from a cache the background scanner fills (see [`image_policy`]).

pub mod capacity;
pub mod image_policy;
pub mod kube;
pub mod namespaces;
pub mod review;
pub mod settings;
pub mod webhook;

pub use image_policy::{ImagePolicy, ImagePolicySettings, ImageScanner, ImageVerdict, ImageVulnerability};
pub use namespaces::NamespaceStore;
pub use settings::{Exemptions, Mode, Settings};
pub use webhook::{BadRequest, DecisionLog, FindingFilter, Webhook};
