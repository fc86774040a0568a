//! Functions Palisade cannot answer as Kyverno does. Each fails naming itself rather than
//! returning a value Kyverno would not.

use jmespath::Runtime;

use super::{Arg, define, failure};

pub(super) fn register(runtime: &mut Runtime) {
    // A random string can never match what Kyverno would have generated.
    define(runtime, "random", &[Arg::String], |_| Err(failure("random", "not supported by Palisade (its output is random)")));
    // Kyverno returns Go's x509.Certificate structure, field for field, which is not reproduced.
    define(runtime, "x509_decode", &[Arg::String], |_| {
        Err(failure("x509_decode", "not supported by Palisade (Go's x509.Certificate layout is not reproduced)"))
    });
}
