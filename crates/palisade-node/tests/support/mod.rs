//! Test support shared by the integration tests of palisade-node; also included by path by the
//! `palisade` binary's node tests.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

pub mod standin;
