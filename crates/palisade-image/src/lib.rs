//! Container images and root filesystems, read as streams.
