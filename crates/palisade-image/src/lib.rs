//! Container images and root filesystems, read as streams.
//!
//! An image is an [`ImageSource`]: a description (digests, platform, layers) and the blob of each
//! layer. Layers are read as tar streams, never unpacked to disk: each layer is analysed on its
//! own (in parallel, and cached by digest), then the layers' results are squashed in order with
//! whiteouts into the files the image finally holds.

mod analyze;
mod blob;
mod cache;
mod digest;
mod directory;
mod docker_archive;
mod error;
mod layer;
mod oci;
pub mod registry;
mod source;
mod squash;
mod tar_stream;

pub use analyze::{AnalysisIssue, AnalyzedImage, FileAnalyzer, FileMeta, FinalFile, LayerProgress, LayerStage, Limits, Want, analyze_image, analyze_image_with_limits};
pub use cache::{LayerCache, cache_root};
pub use directory::{AnalyzedDirectory, analyze_directory, analyze_directory_with_limits};
pub use docker_archive::DockerArchive;
pub use error::{ImageError, LayerProblem};
pub use oci::OciLayout;
pub use source::{ImageSource, OciSelector, Platform, SourceRef};
pub use squash::SymlinkTable;
