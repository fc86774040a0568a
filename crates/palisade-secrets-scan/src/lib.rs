//! The secrets door: where `palisade secrets` looks, each source turned into findings.
