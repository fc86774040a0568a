//! RPM installed-package databases, read from bytes.
