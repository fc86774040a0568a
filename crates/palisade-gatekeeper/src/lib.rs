//! Gatekeeper policies evaluated as Gatekeeper evaluates them: ConstraintTemplates compiled
//! from their Rego (v0 syntax, through regorus), Constraints with Gatekeeper's `match`,
//! `input.review` built as Gatekeeper and gator build it, `data.inventory` from the other
//! objects, and gator's test suites (`palisade policy test`).

pub mod constraint;
pub mod expansion;
mod join;
pub mod matching;
mod memo;
pub mod review;
pub mod suite;
pub mod template;

pub use constraint::{Constraint, is_constraint};
pub use expansion::{ExpansionTemplate, Resultant, is_expansion_template};
pub use matching::{Match, Target};
pub use review::Review;
pub use template::{Evaluator, NotEvaluated, Template, Violation};
