//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and the argument digest that
//! binds an intent token to the exact arguments the governor approved.
//!
//! The workspace builds `serde_json` with `preserve_order`, so the key order of a
//! [`Value`] is its insertion order: two equal argument maps can print differently.
//! [`canonical_json`] removes every such freedom:
//!
//! * object members are sorted by their keys' **UTF-16 code units** (RFC 8785 §3.2.3), which
//!   differs from byte (UTF-8) order only for keys with characters above U+FFFF versus
//!   U+E000..=U+FFFF;
//! * no whitespace anywhere;
//! * strings use the minimal escaping of RFC 8785 §3.2.2.2: `\"`, `\\`, `\b`, `\t`, `\n`,
//!   `\f`, `\r`, other control characters below U+0020 as `\u00xx` (lowercase hex), and every
//!   other character (including U+007F, U+2028 and non-ASCII) as itself in UTF-8;
//! * floating-point numbers use the ECMAScript `Number.prototype.toString` form: the shortest
//!   digits that round-trip (the closest such, ties to even; taken from serde_json's float
//!   printer, which agrees with ECMAScript on every value of RFC 8785's test table), laid out
//!   as ECMAScript does (exponent form `1e+21` from 1e21 up and below 1e-6, `-0` as `0`,
//!   never a trailing `.0`).
//!   An integral float therefore prints like an integer: `1.0` and `1` are the same number
//!   and give the same canonical text and digest, exactly as RFC 8785 prescribes.
//!
//! One deliberate difference from RFC 8785: integers that `serde_json` holds as `i64`/`u64`
//! are printed exactly, digit for digit. RFC 8785 models every number as an IEEE double, so a
//! conforming implementation would print e.g. `9007199254740993` as `9007199254740992`. For
//! integers of magnitude up to 2^53 (every value a JSON producer can represent exactly as a
//! double) both agree; above it ours keeps the integer distinct, which only makes the digest
//! stricter. NaN and infinities cannot occur: a [`Value`] cannot hold them.

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// The RFC 8785 canonical form of `value`: sorted keys, no whitespace, minimal string
/// escaping and ECMAScript number formatting (see the [module docs](self) for the one
/// documented difference on integers above 2^53).
#[must_use]
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// SHA-256 of the canonical JSON of the argument object `args`.
///
/// Two argument maps have the same digest exactly when they are the same JSON object, whatever
/// order their keys were inserted in (and with `1` and `1.0` being the same number).
#[must_use]
pub fn args_digest(args: &Map<String, Value>) -> [u8; 32] {
    let mut out = String::new();
    write_object(args, &mut out);
    Sha256::digest(out.as_bytes()).into()
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(number, out),
        Value::String(string) => write_string(string, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, out),
    }
}

fn write_object(map: &Map<String, Value>, out: &mut String) {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|(a, _), (b, _)| cmp_utf16(a, b));
    out.push('{');
    for (index, (key, value)) in members.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(value, out);
    }
    out.push('}');
}

/// Orders two strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires.
fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn write_string(string: &str, out: &mut String) {
    out.push('"');
    for ch in string.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_number(number: &Number, out: &mut String) {
    if let Some(n) = number.as_u64() {
        let _ = write!(out, "{n}");
    } else if let Some(n) = number.as_i64() {
        let _ = write!(out, "{n}");
    } else if let Some(f) = number.as_f64() {
        write_f64(f, out);
    } else {
        // Unreachable without serde_json's `arbitrary_precision`; its own text is the best
        // stable rendering there is.
        out.push_str(&number.to_string());
    }
}

/// ECMAScript `Number::toString(x)` (ECMA-262 §6.1.6.1.20) for a finite double.
fn write_f64(value: f64, out: &mut String) {
    if value == 0.0 {
        // Covers -0.0 as well.
        out.push('0');
        return;
    }
    // serde_json prints the shortest digit string that round-trips, choosing the closest and,
    // on a tie, the even one, exactly as ECMAScript does (Rust's own `{:e}` rounds such ties
    // up: 1424953923781206.25 would become ...206.3). Only the layout differs, so take its
    // digits and exponent and lay them out again.
    let Some(text) = serde_json::Number::from_f64(value).map(|n| n.to_string()) else {
        // NaN or an infinity, which a serde_json Value cannot hold; JSON.stringify gives null.
        out.push_str("null");
        return;
    };
    let (negative, digits, n) = decimal_parts(&text);
    if negative {
        out.push('-');
    }
    // value = 0.d1d2...dk × 10^n, in ECMAScript's terms.
    let k = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(n - k).unwrap_or(0),
        ));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(usize::try_from(n).unwrap_or(0));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-n).unwrap_or(0)));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

/// Splits a non-zero decimal literal such as `-12.5e-3`, `1e+21` or `0.0001` into its sign,
/// its significant digits `d1..dk` (no leading or trailing zeros) and the exponent `n` with
/// value = 0.d1..dk × 10^n.
fn decimal_parts(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = int.chars().chain(frac.chars()).collect();
    let mut point = i64::try_from(int.len()).unwrap_or(0) + exponent;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    point -= i64::try_from(leading).unwrap_or(0);
    digits.truncate(digits.trim_end_matches('0').len());
    if digits.is_empty() {
        digits.push('0');
    }
    (negative, digits, point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(bits: u64) -> Value {
        Value::Number(Number::from_f64(f64::from_bits(bits)).expect("finite test value"))
    }

    #[test]
    fn numbers_match_the_rfc_8785_appendix_b_table() {
        let cases: &[(u64, &str)] = &[
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ];
        for &(bits, expected) in cases {
            assert_eq!(canonical_json(&float(bits)), expected, "bits {bits:#018x}");
        }
    }

    #[test]
    fn common_floats_print_in_ecmascript_form() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (-1.5, "-1.5"),
            (4.50, "4.5"),
            (2e-3, "0.002"),
            (1e-7, "1e-7"),
            (1e30, "1e+30"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123.456, "123.456"),
            (0.1, "0.1"),
        ];
        for &(value, expected) in cases {
            assert_eq!(canonical_json(&json!(value)), expected, "{value}");
        }
    }

    #[test]
    fn float_text_parses_back_to_the_same_float() {
        // serde_json's default parser read this one ULP off; the crate enables
        // `float_roundtrip` so canonical text and parsed arguments agree.
        let value = json!(-3.794_471_454_159_251_6e-99);
        let text = canonical_json(&value);
        assert_eq!(text, "-3.7944714541592516e-99");
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn integers_print_exactly_including_beyond_two_to_the_53() {
        assert_eq!(canonical_json(&json!(0)), "0");
        assert_eq!(canonical_json(&json!(-42)), "-42");
        assert_eq!(canonical_json(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(canonical_json(&json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(
            canonical_json(&json!(9_007_199_254_740_993_u64)),
            "9007199254740993"
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units_as_in_rfc_8785() {
        // RFC 8785 §3.2.3's example: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in
        // UTF-16 order although it is after it in code point and UTF-8 order.
        let value = json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{80}": "Control",
            "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                        \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\
                        \"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\
                        \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canonical_json(&value), expected);
    }

    #[test]
    fn strings_use_minimal_escaping() {
        let value = json!("q\" b\\ \u{8}\t\n\u{c}\r \u{0}\u{1f} \u{7f} \u{2028} é 😀 /");
        assert_eq!(
            canonical_json(&value),
            "\"q\\\" b\\\\ \\b\\t\\n\\f\\r \\u0000\\u001f \u{7f} \u{2028} é 😀 /\""
        );
    }

    #[test]
    fn nested_structures_have_no_whitespace_and_sorted_keys_at_every_level() {
        let value = json!({"b": [1, {"z": null, "a": true}], "a": {"y": false, "x": "s"}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"x":"s","y":false},"b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn args_digest_ignores_insertion_order() {
        let mut first = Map::new();
        first.insert("path".into(), json!("/sim/logs/a"));
        first.insert("lines".into(), json!(10));
        let mut second = Map::new();
        second.insert("lines".into(), json!(10));
        second.insert("path".into(), json!("/sim/logs/a"));
        assert_eq!(args_digest(&first), args_digest(&second));
        assert_eq!(
            args_digest(&first),
            <[u8; 32]>::from(Sha256::digest(br#"{"lines":10,"path":"/sim/logs/a"}"#))
        );
    }

    #[test]
    fn args_digest_treats_integer_and_integral_float_as_the_same_number() {
        let int = json!({"n": 1}).as_object().cloned().unwrap_or_default();
        let float = json!({"n": 1.0}).as_object().cloned().unwrap_or_default();
        assert_eq!(args_digest(&int), args_digest(&float));
        let other = json!({"n": 1.5}).as_object().cloned().unwrap_or_default();
        assert_ne!(args_digest(&int), args_digest(&other));
    }
}
