//! What the fake API server needs on the wire and no crate of every includer provides: gzip
//! (RFC 1952 around a fixed-Huffman deflate stream with LZ77 matching, RFC 1951) and unpadded
//! URL-safe base64 (the API server's continue tokens). The `palisade` crate's tests include this
//! module by path and have neither flate2 nor base64 among their dependencies; palisade-cluster's
//! own tests check the gzip output with flate2's decoder.

/// `data` gzip-compressed: one fixed-Huffman block, greedy matches over a 32 KiB window. JSON
/// lists compress about 5 to 10 times, in the range of the API server's level-1 gzip.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut bits = Bits { out, acc: 0, count: 0 };
    deflate_fixed(data, &mut bits);
    out = bits.finish();
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

struct Bits {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    /// `bits` low bits of `value`, least significant first (deflate's bit order).
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.count;
        self.count += bits;
        while self.count >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code, which deflate packs most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        self.put(code.reverse_bits() >> (32 - bits), bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

const LENGTH_BASE: [u16; 29] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// A literal/length symbol in the fixed code (RFC 1951 3.2.6).
fn symbol(bits: &mut Bits, symbol: u32) {
    match symbol {
        0..=143 => bits.code(0x30 + symbol, 8),
        144..=255 => bits.code(0x190 + symbol - 144, 9),
        256..=279 => bits.code(symbol - 256, 7),
        _ => bits.code(0xc0 + symbol - 280, 8),
    }
}

/// The index of the largest base not above `value`.
fn bucket(bases: &[u16], value: usize) -> usize {
    bases.partition_point(|&base| usize::from(base) <= value) - 1
}

const WINDOW: usize = 32 * 1024;
const HASH_BITS: u32 = 15;
const MAX_MATCH: usize = 258;
/// Candidates tried per position: enough for JSON's repeated keys, cheap enough for lists of
/// hundreds of megabytes in the benchmark.
const CHAIN: usize = 8;

fn deflate_fixed(data: &[u8], bits: &mut Bits) {
    bits.put(1, 1); // the last block
    bits.put(1, 2); // fixed Huffman codes
    let hash = |at: usize| {
        let word = u32::from(data[at]) | u32::from(data[at + 1]) << 8 | u32::from(data[at + 2]) << 16;
        (word.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
    };
    // Most recent position + 1 per hash (0: none), and per position the previous one.
    let mut head = vec![0u32; 1 << HASH_BITS];
    let mut previous = vec![0u32; WINDOW];
    let insert = |at: usize, head: &mut Vec<u32>, previous: &mut Vec<u32>| {
        if at + 3 <= data.len() {
            let h = hash(at);
            previous[at % WINDOW] = head[h];
            head[h] = at as u32 + 1;
        }
    };
    let mut at = 0;
    while at < data.len() {
        let (mut best_length, mut best_distance) = (0, 0);
        if at + 3 <= data.len() {
            let limit = (data.len() - at).min(MAX_MATCH);
            let mut candidate = head[hash(at)];
            for _ in 0..CHAIN {
                if candidate == 0 {
                    break;
                }
                let from = candidate as usize - 1;
                if at - from > WINDOW - 1 {
                    break;
                }
                let length = data[from..].iter().zip(&data[at..at + limit]).take_while(|(a, b)| a == b).count();
                if length > best_length {
                    (best_length, best_distance) = (length, at - from);
                    if length == limit {
                        break;
                    }
                }
                let next = previous[from % WINDOW];
                // A slot overwritten by a newer position would point forward: stop there.
                if next as usize >= candidate as usize {
                    break;
                }
                candidate = next;
            }
        }
        if best_length >= 3 {
            let code = bucket(&LENGTH_BASE, best_length);
            symbol(bits, 257 + code as u32);
            bits.put((best_length - usize::from(LENGTH_BASE[code])) as u32, u32::from(LENGTH_EXTRA[code]));
            let code = bucket(&DISTANCE_BASE, best_distance);
            bits.code(code as u32, 5);
            bits.put((best_distance - usize::from(DISTANCE_BASE[code])) as u32, u32::from(DISTANCE_EXTRA[code]));
            for position in at..at + best_length {
                insert(position, &mut head, &mut previous);
            }
            at += best_length;
        } else {
            symbol(bits, u32::from(data[at]));
            insert(at, &mut head, &mut previous);
            at += 1;
        }
    }
    symbol(bits, 256);
}

fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (n, entry) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *entry = c;
        }
        table
    });
    !data.iter().fold(!0u32, |crc, &byte| table[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8))
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded URL-safe base64 (Go's `base64.RawURLEncoding`, what the API server's tokens use).
pub fn base64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 / 3 + 3);
    for chunk in data.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, &byte)| word | u32::from(byte) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[(word >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The inverse of [`base64url`]; `None` for anything else.
pub fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut word = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let value = BASE64URL.iter().position(|&b| b == c)? as u32;
            word |= value << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((word >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// `%XX` escapes and `+` decoded, as in a query string.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
