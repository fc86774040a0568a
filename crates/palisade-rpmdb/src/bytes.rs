//! Bounds-checked reads of fixed-width integers, in either byte order.
//!
//! BerkeleyDB and NDB files are written in the byte order of the machine that wrote them
//! (s390x images are big-endian), so their readers pick an [`Endian`] from the file's magic.

/// A byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The `u16` at `offset`, or `None` when it does not fit in `bytes`.
    pub(crate) fn u16(self, bytes: &[u8], offset: usize) -> Option<u16> {
        let raw: [u8; 2] = slice(bytes, offset, 2)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    /// The `u32` at `offset`, or `None` when it does not fit in `bytes`.
    pub(crate) fn u32(self, bytes: &[u8], offset: usize) -> Option<u32> {
        let raw: [u8; 4] = slice(bytes, offset, 4)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }
}

/// `len` bytes at `offset`, or `None` when they do not all lie inside `bytes`.
pub(crate) fn slice(bytes: &[u8], offset: usize, len: usize) -> Option<&[u8]> {
    bytes.get(offset..offset.checked_add(len)?)
}
