//! Trace and span ids: random ones, their hex form, and trace ids read from request ids.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// A trace id: 16 bytes.
pub(crate) type TraceId = [u8; 16];
/// A span id: 8 bytes.
pub(crate) type SpanId = [u8; 8];

/// A fresh random trace id (never all zeros, which OTLP reserves for "no id").
pub(crate) fn new_trace_id() -> TraceId {
    let mut id = [0; 16];
    id[..8].copy_from_slice(&next_nonzero().to_be_bytes());
    id[8..].copy_from_slice(&next_nonzero().to_be_bytes());
    id
}

/// A fresh random span id (never all zeros).
pub(crate) fn new_span_id() -> SpanId {
    next_nonzero().to_be_bytes()
}

/// The trace id in a request id: a UUID with or without dashes, or 32 hex digits, any case.
pub(crate) fn parse_trace_id(text: &str) -> Option<TraceId> {
    let digits: Vec<u8> = text.trim().bytes().filter(|b| *b != b'-').collect();
    if digits.len() != 32 {
        return None;
    }
    let mut id = [0; 16];
    for (byte, pair) in id.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
    }
    (id != [0; 16]).then_some(id)
}

/// Lowercase hex, as OTLP/JSON writes ids.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// A 32-digit hex trace id written as a UUID (8-4-4-4-12), as request ids are shown; other
/// text is returned unchanged.
pub(crate) fn dashed(hex_id: &str) -> String {
    if hex_id.len() != 32 || !hex_id.is_ascii() {
        return hex_id.to_owned();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex_id[..8],
        &hex_id[8..12],
        &hex_id[12..16],
        &hex_id[16..20],
        &hex_id[20..]
    )
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// SplitMix64 over a counter from a random start: every call in the process returns a
/// different number, and processes start at different points. Ids need to be unique, not
/// secret.
fn next_nonzero() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // std seeds every RandomState from the operating system's randomness.
    let seed = *SEED.get_or_init(|| RandomState::new().build_hasher().finish());
    loop {
        let mut z = seed.wrapping_add(
            COUNTER
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        if z != 0 {
            return z;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_uuid_gives_its_hex_digits_with_or_without_dashes() {
        let with = parse_trace_id("3F2B8C1E-9D4A-4E5F-8A7B-6C5D4E3F2A1B").unwrap();
        let without = parse_trace_id("3f2b8c1e9d4a4e5f8a7b6c5d4e3f2a1b").unwrap();
        assert_eq!(with, without);
        assert_eq!(hex(&with), "3f2b8c1e9d4a4e5f8a7b6c5d4e3f2a1b");
        assert_eq!(dashed(&hex(&with)), "3f2b8c1e-9d4a-4e5f-8a7b-6c5d4e3f2a1b");
    }

    #[test]
    fn text_that_is_not_a_uuid_gives_no_trace_id() {
        for text in [
            "",
            "req-42",
            "3f2b8c1e9d4a4e5f8a7b6c5d4e3f2a1",
            "zz2b8c1e9d4a4e5f8a7b6c5d4e3f2a1b",
        ] {
            assert!(parse_trace_id(text).is_none(), "{text}");
        }
        assert!(parse_trace_id(&"0".repeat(32)).is_none());
    }

    #[test]
    fn random_ids_do_not_repeat() {
        let spans: HashSet<SpanId> = (0..10_000).map(|_| new_span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        assert_ne!(new_trace_id(), new_trace_id());
    }
}
