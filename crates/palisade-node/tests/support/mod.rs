//! Test support shared by the integration tests of palisade-node.

pub mod standin;
