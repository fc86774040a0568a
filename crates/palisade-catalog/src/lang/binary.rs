//! Executables (ELF, Mach-O, PE) as far as the Go and Rust binary catalogers read them: named
//! sections, and the bytes at a virtual address, found through the file's segments the way Go's
//! `debug/buildinfo` finds them. Parsing borrows the file's bytes; nothing is copied.

use object::{Object, ObjectSection, ObjectSegment, SectionFlags, SegmentFlags};

/// A universal Mach-O file holds one image per architecture; more than this is not a real one.
const MAX_ARCHITECTURES: usize = 16;

/// One executable image: a plain file, or one architecture of a universal Mach-O file.
pub(super) struct Executable<'data> {
    file: object::File<'data>,
    data: &'data [u8],
}

/// The images of an executable; `None` when the bytes are not ELF, Mach-O or PE (a script, a
/// text file), or are too damaged to parse.
pub(super) fn executables(data: &[u8]) -> Option<Vec<Executable<'_>>> {
    let images: Vec<&[u8]> = match object::FileKind::parse(data).ok()? {
        object::FileKind::MachOFat32 => {
            let fat = object::read::macho::MachOFatFile32::parse(data).ok()?;
            fat.arches().iter().take(MAX_ARCHITECTURES).filter_map(|arch| object::read::macho::FatArch::data(arch, data).ok()).collect()
        }
        object::FileKind::MachOFat64 => {
            let fat = object::read::macho::MachOFatFile64::parse(data).ok()?;
            fat.arches().iter().take(MAX_ARCHITECTURES).filter_map(|arch| object::read::macho::FatArch::data(arch, data).ok()).collect()
        }
        object::FileKind::Elf32
        | object::FileKind::Elf64
        | object::FileKind::MachO32
        | object::FileKind::MachO64
        | object::FileKind::Pe32
        | object::FileKind::Pe64 => vec![data],
        _ => return None,
    };
    let executables: Vec<Executable> =
        images.into_iter().filter_map(|image| object::File::parse(image).ok().map(|file| Executable { file, data: image })).collect();
    (!executables.is_empty()).then_some(executables)
}

/// Bytes mapped at a virtual address.
struct Region<'data> {
    address: u64,
    bytes: &'data [u8],
}

impl<'data> Executable<'data> {
    /// The contents of the first section with this name, as stored in the file.
    pub(super) fn section(&self, name: &str) -> Option<&'data [u8]> {
        self.file.sections().find(|section| section.name() == Ok(name)).and_then(|section| section.data().ok())
    }

    /// The address and size of the data where Go's linker puts its build information: its own
    /// section when there is one, else the first writable data segment or section.
    pub(super) fn data_start(&self) -> (u64, u64) {
        let named = |name| self.file.sections().find(|section| section.name() == Ok(name)).map(|section| (section.address(), section.size()));
        match self.file.format() {
            object::BinaryFormat::Elf => named(".go.buildinfo").or_else(|| {
                const EXECUTE: u32 = 1;
                const WRITE: u32 = 2;
                self.file
                    .segments()
                    .find(|segment| matches!(segment.flags(), SegmentFlags::Elf { p_flags } if p_flags & (EXECUTE | WRITE) == WRITE))
                    .map(|segment| (segment.address(), segment.size()))
            }),
            object::BinaryFormat::MachO => named("__go_buildinfo").or_else(|| {
                const READ_WRITE: u32 = 3;
                self.file
                    .segments()
                    .find(|segment| {
                        let writable = matches!(segment.flags(), SegmentFlags::MachO { maxprot, initprot, .. } if maxprot == READ_WRITE && initprot == READ_WRITE);
                        writable && segment.address() != 0 && segment.file_range().1 != 0
                    })
                    .map(|segment| (segment.address(), segment.size()))
            }),
            object::BinaryFormat::Pe => {
                const INITIALIZED_DATA_READ_WRITE: u32 = 0xc000_0040;
                const ALIGNMENT_BITS: u32 = 0x0060_0000;
                let base = self.file.relative_address_base();
                self.file
                    .sections()
                    .find(|section| {
                        let data = matches!(section.flags(), SectionFlags::Coff { characteristics } if characteristics & !ALIGNMENT_BITS == INITIALIZED_DATA_READ_WRITE);
                        data && section.address() != base && section.file_range().is_some_and(|(_, size)| size != 0)
                    })
                    .map(|section| (section.address(), section.size()))
            }
            _ => None,
        }
        .unwrap_or((0, 0))
    }

    /// The file bytes mapped at virtual addresses, segment by segment (sections for PE).
    fn regions(&self) -> impl Iterator<Item = Region<'data>> + '_ {
        let data = self.data;
        let file_bytes = move |(offset, size): (u64, u64)| {
            let start = usize::try_from(offset).ok()?;
            let end = start.checked_add(usize::try_from(size).ok()?)?.min(data.len());
            data.get(start..end).filter(|bytes| !bytes.is_empty())
        };
        let pe = self.file.format() == object::BinaryFormat::Pe;
        let segments = self.file.segments().filter(move |_| !pe).filter_map(move |segment| {
            let bytes = file_bytes(segment.file_range())?;
            Some(Region { address: segment.address(), bytes })
        });
        let sections = self.file.sections().filter(move |_| pe).filter_map(move |section| {
            let bytes = file_bytes(section.file_range()?)?;
            Some(Region { address: section.address(), bytes })
        });
        segments.chain(sections)
    }

    /// Up to `size` bytes from virtual address `address`, within the one region that maps it (as
    /// Go's `ReadData`); `None` when nothing maps it.
    pub(super) fn read(&self, address: u64, size: u64) -> Option<&'data [u8]> {
        let region = self.regions().find(|region| region.address <= address && address - region.address < region.bytes.len() as u64)?;
        let start = usize::try_from(address - region.address).ok()?;
        let available = region.bytes.len() - start;
        let length = usize::try_from(size).map_or(available, |size| size.min(available));
        region.bytes.get(start..start + length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_text_are_not_executables() {
        assert!(executables(b"#!/bin/sh\necho hello, this is a script\n").is_none());
        assert!(executables(b"").is_none());
        // An ELF magic with nothing behind it.
        assert!(executables(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00").is_none());
    }
}
