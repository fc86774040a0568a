//! The build information the Go linker embeds in every program built with modules: the
//! toolchain version and the module list (`path`, `mod`, `dep`, `=>` replacements, `build`
//! settings), found and decoded as Go's `debug/buildinfo` and `runtime/debug.ParseBuildInfo` do.
//!
//! The blob starts with the 14-byte magic `\xff Go buildinf:` at a 16-byte aligned address in the
//! data the linker marks for it, then the pointer size and a flags byte. Since Go 1.18 the two
//! strings follow the 32-byte header inline, each prefixed with its length as a varint; before,
//! the header held the addresses of two Go string headers (data pointer, length), which are
//! followed through the file's segments.

use super::super::binary::Executable;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const ALIGN: u64 = 16;
const HEADER_SIZE: u64 = 32;

/// A module as the build information lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Module {
    pub(super) path: String,
    pub(super) version: String,
    pub(super) sum: String,
    pub(super) replace: Option<Box<Module>>,
}

/// What `runtime/debug.BuildInfo` holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct BuildInfo {
    /// The toolchain version, `go1.22.5` (possibly with experiments after a space).
    pub(super) go_version: String,
    /// The main package's import path.
    pub(super) path: String,
    pub(super) main: Module,
    pub(super) deps: Vec<Module>,
    pub(super) settings: Vec<(String, String)>,
}

/// The build information of one executable image: `Ok(None)` when it is not a Go program (or one
/// built without it), `Err` when the blob is there but cannot be decoded.
pub(super) fn read(executable: &Executable) -> Result<Option<BuildInfo>, String> {
    let Some((version, modinfo)) = raw(executable) else {
        return Ok(None);
    };
    let mut info = parse(&modinfo)?;
    info.go_version = version;
    Ok(Some(info))
}

/// The toolchain version and the framed module information, as `debug/buildinfo` reads them.
fn raw(executable: &Executable) -> Option<(String, String)> {
    let (start, size) = executable.data_start();
    let blob = find_magic(executable, start, size)?;
    let header = executable.read(blob, HEADER_SIZE).filter(|header| header.len() as u64 == HEADER_SIZE)?;
    let flags = header[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let (version, next) = inline_string(executable, blob + HEADER_SIZE)?;
        let (modinfo, _) = inline_string(executable, next)?;
        (version, modinfo)
    } else {
        let pointer_size = usize::from(header[14]);
        if pointer_size != 4 && pointer_size != 8 {
            return None;
        }
        let big_endian = flags & 1 != 0;
        let read_pointer = |bytes: &[u8]| pointer(bytes, pointer_size, big_endian);
        let string_at = |address: Option<u64>| address.map(|address| pointer_string(executable, address, pointer_size, big_endian)).unwrap_or_default();
        (string_at(read_pointer(&header[16..])), string_at(read_pointer(&header[16 + pointer_size..])))
    };
    if version.is_empty() {
        return None;
    }
    // The module information is framed by two 16-byte sentinels; without them there is none.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' { &modinfo[16..modinfo.len() - 16] } else { &[][..] };
    Some((String::from_utf8_lossy(version).into_owned(), String::from_utf8_lossy(modinfo).into_owned()))
}

/// The first 16-byte aligned magic in `[start, start + size)`, with room for the header.
fn find_magic(executable: &Executable, start: u64, size: u64) -> Option<u64> {
    let end = start.checked_add(size)?;
    let aligned = start.checked_add(ALIGN - 1)? & !(ALIGN - 1);
    if aligned >= end {
        return None;
    }
    let data = executable.read(aligned, end - aligned)?;
    // Only aligned copies count, so only aligned offsets are looked at.
    let at = (0..data.len()).step_by(ALIGN as usize).find(|&offset| data[offset..].starts_with(MAGIC))?;
    (data.len() - at >= HEADER_SIZE as usize).then_some(aligned + at as u64)
}

/// A varint-length-prefixed string at `address` and the address after it.
fn inline_string<'data>(executable: &Executable<'data>, address: u64) -> Option<(&'data [u8], u64)> {
    let prefix = executable.read(address, 10)?;
    let (length, used) = uvarint(prefix)?;
    let start = address.checked_add(used as u64)?;
    let bytes = executable.read(start, length)?;
    (bytes.len() as u64 == length).then_some((bytes, start + length))
}

/// A Go string whose header (data pointer, length) is at `address`; empty when it is not mapped.
fn pointer_string<'data>(executable: &Executable<'data>, address: u64, pointer_size: usize, big_endian: bool) -> &'data [u8] {
    let Some(header) = executable.read(address, 2 * pointer_size as u64).filter(|header| header.len() == 2 * pointer_size) else {
        return &[];
    };
    let (Some(data), Some(length)) = (pointer(header, pointer_size, big_endian), pointer(&header[pointer_size..], pointer_size, big_endian)) else {
        return &[];
    };
    executable.read(data, length).filter(|bytes| bytes.len() as u64 == length).unwrap_or_default()
}

fn pointer(bytes: &[u8], size: usize, big_endian: bool) -> Option<u64> {
    let bytes = bytes.get(..size)?;
    let mut value = 0u64;
    for index in 0..size {
        let byte = if big_endian { bytes[index] } else { bytes[size - 1 - index] };
        value = (value << 8) | u64::from(byte);
    }
    Some(value)
}

/// Go's `binary.Uvarint`: the value and the bytes it took, `None` when truncated or overflowing.
fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        if index == 9 && byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte < 0x80 {
            return Some((value, index + 1));
        }
    }
    None
}

/// `runtime/debug.ParseBuildInfo`: the module lines, without the toolchain version. An error
/// names the line, counted from 1 as Go counts them.
pub(super) fn parse(modinfo: &str) -> Result<BuildInfo, String> {
    let mut info = BuildInfo::default();
    // The module the next `=>` line replaces: none, the main module, or a dependency.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    let mut rest = modinfo;
    let mut line_number = 1;
    // A last line without a newline is not read (as in Go).
    while let Some((line, after)) = rest.split_once('\n') {
        rest = after;
        let error = |problem: &str| format!("build information line {line_number}: {problem}");
        if let Some(path) = line.strip_prefix("path\t") {
            info.path = path.to_owned();
        } else if let Some(columns) = line.strip_prefix("mod\t") {
            info.main = module(columns).map_err(|problem| error(&problem))?;
            last = Last::Main;
        } else if let Some(columns) = line.strip_prefix("dep\t") {
            info.deps.push(module(columns).map_err(|problem| error(&problem))?);
            last = Last::Dep;
        } else if let Some(columns) = line.strip_prefix("=>\t") {
            let elements: Vec<&str> = columns.split('\t').collect();
            let [path, version, sum] = elements[..] else {
                return Err(error(&format!("expected 3 columns for replacement; got {}", elements.len())));
            };
            let replacement = Some(Box::new(Module { path: path.to_owned(), version: version.to_owned(), sum: sum.to_owned(), replace: None }));
            match last {
                Last::Main => info.main.replace = replacement,
                Last::Dep => {
                    if let Some(dep) = info.deps.last_mut() {
                        dep.replace = replacement;
                    }
                }
                Last::None => return Err(error("replacement with no module on previous line")),
            }
            last = Last::None;
        } else if let Some(setting) = line.strip_prefix("build\t") {
            info.settings.push(build_setting(setting).map_err(|problem| error(&problem))?);
        }
        line_number += 1;
    }
    Ok(info)
}

fn module(columns: &str) -> Result<Module, String> {
    let elements: Vec<&str> = columns.split('\t').collect();
    match elements[..] {
        [path, version] => Ok(Module { path: path.to_owned(), version: version.to_owned(), ..Module::default() }),
        [path, version, sum] => Ok(Module { path: path.to_owned(), version: version.to_owned(), sum: sum.to_owned(), replace: None }),
        _ => Err(format!("expected 2 or 3 columns; got {}", elements.len())),
    }
}

/// `key=value`, either side quoted as Go quotes strings when it holds spaces, quotes or `=`.
fn build_setting(setting: &str) -> Result<(String, String), String> {
    let (key, raw_value) = match setting.chars().next() {
        None => return Err("build line missing '='".into()),
        Some('=') => return Err("build line with missing key".into()),
        Some('"' | '`') => {
            let (key, used) = unquote_prefix(setting).ok_or("invalid quoted key in build line")?;
            match setting[used..].strip_prefix('=') {
                Some(value) => (key, value),
                None if used == setting.len() => return Err("build line missing '=' after quoted key".into()),
                None => return Err("unexpected character after quoted key".into()),
            }
        }
        Some(_) => {
            let (key, value) = setting.split_once('=').ok_or("build line missing '=' after key")?;
            if key.contains(['=', ' ', '\t', '\r', '\n', '"', '`']) {
                return Err(format!("unquoted key {key:?} must be quoted"));
            }
            (key.to_owned(), value)
        }
    };
    let value = match raw_value.chars().next() {
        Some('"' | '`') => match unquote_prefix(raw_value) {
            Some((value, used)) if used == raw_value.len() => value,
            _ => return Err("invalid quoted value in build line".into()),
        },
        _ if raw_value.contains([' ', '\t', '\r', '\n', '"', '`']) => return Err(format!("unquoted value {raw_value:?} must be quoted")),
        _ => raw_value.to_owned(),
    };
    Ok((key, value))
}

/// A Go string literal (`"..."` with escapes, or `` `...` ``) at the start of `text`: its value
/// and the bytes it took.
fn unquote_prefix(text: &str) -> Option<(String, usize)> {
    let mut characters = text.char_indices();
    let (_, quote) = characters.next()?;
    if quote == '`' {
        let end = text[1..].find('`')? + 1;
        return Some((text[1..end].replace('\r', ""), end + 1));
    }
    let mut value = String::new();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Some((value, index + 1)),
            '\n' => return None,
            '\\' => {
                let (_, escape) = characters.next()?;
                let mut hex = |digits: usize| -> Option<u32> {
                    let mut code = 0;
                    for _ in 0..digits {
                        code = code * 16 + characters.next()?.1.to_digit(16)?;
                    }
                    Some(code)
                };
                match escape {
                    'a' => value.push('\u{7}'),
                    'b' => value.push('\u{8}'),
                    'f' => value.push('\u{c}'),
                    'n' => value.push('\n'),
                    'r' => value.push('\r'),
                    't' => value.push('\t'),
                    'v' => value.push('\u{b}'),
                    '\\' | '"' => value.push(escape),
                    // A byte escape: Go strings hold bytes; text here holds characters.
                    'x' => value.push(char::from(u8::try_from(hex(2)?).ok()?)),
                    'u' => value.push(char::from_u32(hex(4)?)?),
                    'U' => value.push(char::from_u32(hex(8)?)?),
                    '0'..='7' => {
                        let mut code = escape.to_digit(8)?;
                        for _ in 0..2 {
                            code = code * 8 + characters.next()?.1.to_digit(8)?;
                        }
                        value.push(char::from(u8::try_from(code).ok()?));
                    }
                    _ => return None,
                }
            }
            _ => value.push(character),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_lines_replacements_and_settings() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\texample.com/greet\tv1.2.3\th1:abc=\n=>\t../lib\t(devel)\t\nbuild\t-compiler=gc\nbuild\t-ldflags=\"-X main.version=3.4.5 -s -w\"\nbuild\tvcs.modified=false\n";
        let info = parse(modinfo).unwrap();
        assert_eq!(info.path, "example.com/app");
        assert_eq!((info.main.path.as_str(), info.main.version.as_str()), ("example.com/app", "(devel)"));
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].sum, "h1:abc=");
        assert_eq!(info.deps[0].replace.as_deref().map(|module| (module.path.as_str(), module.version.as_str())), Some(("../lib", "(devel)")));
        assert_eq!(info.settings[1], ("-ldflags".into(), "-X main.version=3.4.5 -s -w".into()));
        assert_eq!(info.settings.len(), 3);
    }

    #[test]
    fn malformed_lines_are_named() {
        assert_eq!(parse("path\tx\ndep\ta\n").map(|_| ()), Err("build information line 2: expected 2 or 3 columns; got 1".into()));
        assert_eq!(parse("=>\ta\tb\tc\n").map(|_| ()), Err("build information line 1: replacement with no module on previous line".into()));
        assert_eq!(parse("mod\ta\tb\n=>\ta\tb\n").map(|_| ()), Err("build information line 2: expected 3 columns for replacement; got 2".into()));
        assert_eq!(parse("build\tkey=a b\n").map(|_| ()), Err("build information line 1: unquoted value \"a b\" must be quoted".into()));
        assert_eq!(parse("build\t\"k\"x\n").map(|_| ()), Err("build information line 1: unexpected character after quoted key".into()));
        assert_eq!(parse("build\tk=\"a\n").map(|_| ()), Err("build information line 1: invalid quoted value in build line".into()));
        // Unknown lines are skipped and a last line without a newline is not read.
        assert_eq!(parse("go\tgo1.22\nother\nmod\ta\tb").map(|info| info.main), Ok(Module::default()));
    }

    #[test]
    fn go_string_literals() {
        assert_eq!(unquote_prefix(r#""a\tb\x41\u00e9\101\"" rest"#), Some(("a\tbAéA\"".into(), 22)));
        assert_eq!(unquote_prefix("`raw\\n`="), Some(("raw\\n".into(), 7)));
        assert_eq!(unquote_prefix(r#""\q""#), None);
        assert_eq!(unquote_prefix(r#""open"#), None);
    }

    #[test]
    fn varints() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 11]), None);
    }
}
