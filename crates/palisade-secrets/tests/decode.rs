//! gitleaks-compatible decoding: segments, chains, spans back to the raw fragment, caps.

use palisade_secrets::decode::{DecodeLimits, Decoder, Encoding, Limit};

fn b64(data: &[u8], url_safe: bool, pad: bool) -> String {
    let alphabet: &[u8] = if url_safe { b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" } else { b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if pad {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn percent(data: &[u8]) -> String {
    data.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A pass: its text, and each segment's chain and span in the raw fragment.
type Pass = (String, Vec<(Vec<Encoding>, std::ops::Range<usize>)>);

/// Decodes to the bottom and returns every pass.
fn passes(raw: &str, limits: DecodeLimits) -> Vec<Pass> {
    let mut decoder = Decoder::new(raw.as_bytes(), limits);
    let mut out = Vec::new();
    while decoder.next_pass() {
        let segments = decoder.segments().iter().map(|s| (s.chain.clone(), s.original.clone())).collect();
        out.push((String::from_utf8_lossy(decoder.text()).into_owned(), segments));
    }
    out
}

const KEY: &str = "AKIAIOSFODNN7EXAMPLE"; // AWS' documented example key id

#[test]
fn base64_credential_at_depth_one_maps_to_its_segment() {
    let encoded = b64(format!("aws_access_key_id={KEY}").as_bytes(), false, true);
    let raw = format!("line one\nconfig: {encoded} # end\n");
    let mut decoder = Decoder::new(raw.as_bytes(), DecodeLimits::default());
    assert!(decoder.next_pass());
    assert_eq!(decoder.depth(), 1);
    let text = String::from_utf8(decoder.text().to_vec()).unwrap();
    assert_eq!(text, format!("line one\nconfig: aws_access_key_id={KEY} # end\n"));
    let at = text.find(KEY).unwrap();
    let located = decoder.locate(at..at + KEY.len()).expect("match in decoded text");
    let start = raw.find(&encoded).unwrap();
    assert_eq!(located.original, start..start + encoded.len());
    assert_eq!(located.chain, vec![Encoding::Base64]);
    assert_eq!(located.gitleaks_tags(), vec!["decoded:base64", "decode-depth:1"]);
    assert_eq!(&text[located.line.clone()], "\nconfig: aws_access_key_id=AKIAIOSFODNN7EXAMPLE # end");
    // Text outside the decoded segment was scanned by the raw pass already.
    assert_eq!(decoder.locate(0..4), None);
    assert!(!decoder.next_pass(), "nothing left to decode");
}

#[test]
fn nested_encodings_record_the_chain_and_the_outer_span() {
    // depth 2: percent of base64; depth 3: hex of base64 of percent-encoded text.
    let inner = format!("token={KEY}&x=1");
    let two = percent(b64(inner.as_bytes(), false, true).as_bytes());
    let raw2 = format!("k: {two}\n");
    let p = passes(&raw2, DecodeLimits::default());
    assert_eq!(p.len(), 2);
    assert!(p[1].0.contains(KEY));
    let start = raw2.find(&two).unwrap();
    assert_eq!(p[1].1, vec![(vec![Encoding::Percent, Encoding::Base64], start..start + two.len())]);

    let three = hex(b64(format!("pw%3D{KEY}%26").as_bytes(), true, false).as_bytes());
    let raw3 = format!("x = \"{three}\";");
    let mut decoder = Decoder::new(raw3.as_bytes(), DecodeLimits::default());
    for _ in 0..3 {
        assert!(decoder.next_pass());
    }
    let text = String::from_utf8(decoder.text().to_vec()).unwrap();
    assert_eq!(text, format!("x = \"pw={KEY}&\";"));
    let at = text.find(KEY).unwrap();
    let located = decoder.locate(at..at + KEY.len()).unwrap();
    let start = raw3.find(&three).unwrap();
    assert_eq!(located.original, start..start + three.len());
    assert_eq!(located.depth, 3);
    assert_eq!(located.chain, vec![Encoding::Hex, Encoding::Base64, Encoding::Percent]);
    assert_eq!(located.gitleaks_tags(), vec!["decoded:percent", "decoded:hex", "decoded:base64", "decode-depth:3"]);
}

#[test]
fn depth_cap_stops_nesting() {
    let raw = b64(b64(format!("secret={KEY}").as_bytes(), false, true).as_bytes(), false, true);
    let p = passes(&raw, DecodeLimits { max_depth: 1, ..DecodeLimits::default() });
    assert_eq!(p.len(), 1);
    assert!(!p[0].0.contains(KEY));
    assert!(passes(&raw, DecodeLimits { max_depth: 0, ..DecodeLimits::default() }).is_empty());
}

#[test]
fn matches_spanning_segment_edges_widen_to_the_encoded_segment() {
    let encoded = b64(b"ghp_0123456789abcdefghij", false, true);
    let raw = format!("token={encoded};");
    let mut decoder = Decoder::new(raw.as_bytes(), DecodeLimits::default());
    assert!(decoder.next_pass());
    let text = String::from_utf8(decoder.text().to_vec()).unwrap();
    assert_eq!(text, "token=ghp_0123456789abcdefghij;");
    // "token=ghp_…" starts in raw text and ends inside the segment.
    let located = decoder.locate(0..text.len() - 1).unwrap();
    assert_eq!(located.original, 0..raw.len() - 1);
}

#[test]
fn url_safe_base64_and_unicode_escapes_decode() {
    let url = b64(b"user=admin&pass=s3cr3t?>>", true, false);
    assert!(url.contains('-') || url.contains('_'), "fixture exercises the URL-safe alphabet: {url}");
    assert_eq!(passes(&url, DecodeLimits::default())[0].0, "user=admin&pass=s3cr3t?>>");
    let escaped = r"k=\u0070\u0061\u0073\u0073 U+0061 U+0062";
    assert_eq!(passes(escaped, DecodeLimits::default())[0].0, "k=pass ab");
}

#[test]
fn non_qualifying_segments_are_left_alone() {
    for raw in [
        // 15 base64 characters: below the 16 minimum.
        "dGhpcyBpcyBhIHQ",
        // Long identifiers without a digit or + / - _ are not tried as base64.
        "ThisIsAVeryLongIdentifierName",
        // Decodes to non-printable bytes.
        "AAECAwQFBgcICQoLDA0ODw==",
        // Odd-length hex, and 32 hex digits decoding to non-printable bytes.
        "0123456789abcdef0123456789abcdef0",
        "00112233445566778899aabbccddeeff",
        // Hex of printable text, but no digit 0-9: never tried.
        "abcdefabcdefabcdefabcdefabcdefabcdef",
        // Percent escape of a control byte.
        "a%00b",
        // Standard base64 (a `/`) missing its padding, and mixing both alphabets.
        "dGhp/yBpcyBhIHRlc3QxMg",
        "dGhp+yBpcy_hIHRlc3Q1MjM=",
    ] {
        assert!(passes(raw, DecodeLimits::default()).is_empty(), "{raw:?} must not decode");
    }
}

#[test]
fn touching_candidates_yield_to_higher_precedence() {
    // A base64 run touching a percent run waits: percent is decoded first.
    let raw = format!("{}%41%42", b64(b"hello world, hello", false, true));
    let p = passes(&raw, DecodeLimits { max_depth: 1, ..DecodeLimits::default() });
    assert_eq!(p[0].1.len(), 1);
    assert_eq!(p[0].1[0].0, vec![Encoding::Percent]);
}

#[test]
fn hundred_deep_base64_is_bounded_by_depth() {
    let mut payload = format!("secret={KEY}").into_bytes();
    for _ in 0..100 {
        payload = b64(&payload, false, true).into_bytes();
        if payload.len() > 1 << 20 {
            break; // ~40 levels: the base64 grows by a third at each one
        }
    }
    let run = |limits: DecodeLimits| {
        let mut decoder = Decoder::new(&payload, limits);
        let mut passes = 0;
        while decoder.next_pass() {
            passes += 1;
        }
        (passes, decoder.text().len(), decoder.limit_hit())
    };
    let (passes, len, limit) = run(DecodeLimits::default());
    assert_eq!((passes, limit), (5, None));
    assert!(len < payload.len() / 4);
    // The byte budget ends it earlier, even with depth to spare.
    let (passes, _, limit) = run(DecodeLimits { max_decoded_bytes: 3 << 19, max_depth: 100, ..DecodeLimits::default() });
    assert!((1..5).contains(&passes), "{passes}");
    assert_eq!(limit, Some(Limit::DecodedBytes));
}

#[test]
fn fifty_megabyte_base64_line_hits_the_byte_cap() {
    let line: Vec<u8> = b"QUtJQUlPU0ZPRE5ON0VYQU1QTEUx".iter().copied().cycle().take(50 << 20).collect();
    let mut decoder = Decoder::new(&line, DecodeLimits::default());
    assert!(!decoder.next_pass());
    assert_eq!(decoder.limit_hit(), Some(Limit::DecodedBytes));
    assert_eq!(decoder.text().len(), line.len());

    // With room for it, it decodes once and every later pass is bounded by the decoded size.
    let limits = DecodeLimits { max_decoded_bytes: 64 << 20, ..DecodeLimits::default() };
    let mut decoder = Decoder::new(&line, limits);
    assert!(decoder.next_pass());
    assert_eq!(decoder.text().len(), line.len() / 4 * 3);
}

#[test]
fn many_candidates_hit_the_segment_cap() {
    let raw: String = (0..50_000).map(|i| format!("%4{}\n", i % 10)).collect();
    let limits = DecodeLimits { max_segments: 1000, ..DecodeLimits::default() };
    let mut decoder = Decoder::new(raw.as_bytes(), limits);
    assert!(decoder.next_pass());
    assert_eq!(decoder.segments().len(), 1000);
    assert_eq!(decoder.limit_hit(), Some(Limit::Segments));
    assert!(!decoder.next_pass());
}

#[test]
fn random_bytes_decode_within_caps() {
    // xorshift: deterministic noise, ~4 MiB.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..4 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let limits = DecodeLimits::default();
    let mut decoder = Decoder::new(&noise, limits.clone());
    let mut total_segments = 0;
    while decoder.next_pass() {
        total_segments += decoder.segments().len();
        assert!(decoder.text().len() <= noise.len());
    }
    assert!(decoder.depth() <= limits.max_depth);
    assert!(total_segments <= limits.max_segments);
}
