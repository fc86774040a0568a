//! Container images and root filesystems, read as streams.
//!
//! An image is an [`ImageSource`]: a description (digests, platform, layers) and the blob of each
//! layer. Layers are read as tar streams, never unpacked to disk: each layer is analysed on its
//! own (in parallel, and cached by digest), then the layers' results are squashed in order with
//! whiteouts into the files the image finally holds.

mod error;
mod source;

pub use error::{ImageError, LayerProblem};
pub use source::{ImageSource, OciSelector, Platform, SourceRef};
