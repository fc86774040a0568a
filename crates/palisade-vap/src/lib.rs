//! Kubernetes ValidatingAdmissionPolicies (`admissionregistration.k8s.io/v1`) and their bindings,
//! evaluated as the API server evaluates them, in CEL with the Kubernetes CEL libraries
//! (kube-cel).
//!
//! ```
//! use palisade_vap::{PolicySet, Request, Verdict};
//! use serde_json::json;
//!
//! let (policies, warnings) = PolicySet::from_objects([
//!     json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
//!            "metadata": {"name": "replicas"},
//!            "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
//!                         "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]},
//!                     "validations": [{"expression": "object.spec.replicas <= 5"}]}}),
//!     json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
//!            "metadata": {"name": "replicas"},
//!            "spec": {"policyName": "replicas", "validationActions": ["Deny"]}}),
//! ]);
//! assert!(warnings.is_empty());
//! let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
//!                         "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 7}});
//! let decisions = policies.evaluate(&Request::create(&deployment, None));
//! let verdict = Verdict::of(&decisions);
//! assert_eq!(verdict.denial.unwrap().message,
//!            "ValidatingAdmissionPolicy 'replicas' with binding 'replicas' denied request: failed expression: object.spec.replicas <= 5");
//! ```
//!
//! What cannot be decided here is reported [`Outcome::NotEvaluated`], never as a pass or a
//! denial: expressions that use `authorizer` (the API server's authorizer is not available),
//! expressions or selectors that need a Namespace object the caller did not provide,
//! expressions that read `request.userInfo` when the request has no user (a scanned manifest),
//! expressions that call a function the engine does not provide (`cel.bind`, a misspelling
//! the API server would have rejected), requests
//! that match only through an equivalent resource (the API server would convert the object to
//! that version first), and policies or bindings the API server would have rejected (an
//! expression that does not compile, an invalid selector).

mod decision;
mod evaluate;
mod expression;
mod matching;
mod model;
mod optional;
mod params;
mod policy_set;
mod request;
mod resources;

pub use decision::{Decision, Denial, Outcome, Verdict, Violation};
pub use model::Action;
pub use policy_set::{PolicySet, Warning};
pub use request::{GroupVersionKind, GroupVersionResource, Request};
