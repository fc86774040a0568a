//! Which known vulnerabilities apply to an inventory: each package mapped to its OSV ecosystem
//! (distribution release included) and matched against the advisories' ranges in that
//! ecosystem's own version ordering.
