//! Redaction of personal data and withholding of secrets, applied to every event payload before
//! it is hashed and written (so the audit chain covers the redacted text, and the original never
//! touches the disk).
//!
//! Two rules:
//!
//! * **Secrets are withheld.** In any JSON object, at any depth, a key one of whose name segments
//!   is `password`, `passwd`, `secret`, `token`, `api_key`/`apikey`, `private_key` or
//!   `credential` (plurals `passwords`, `secrets`, `credentials` too; not `tokens`, which
//!   counts model tokens) has its value, whatever its type, replaced by `"[withheld]"`. Segments
//!   are split at `_`, `-`, `.`, spaces and camelCase boundaries, case-insensitively, so
//!   `db_password`, `apiKey`, `X-Api-Key`, `clientSecret` and `AUTH_TOKEN` are all withheld, and
//!   `tokenizer` or `max_tokens` are not.
//! * **Personal data in string values is redacted** by [`Redactor`]: e-mail addresses, phone
//!   numbers and payment-card numbers by default, plus any extra pattern configured, each
//!   replaced by `[redacted:LABEL]`. Only values are redacted, never object keys (keys are the
//!   payload's structure, chosen by the code that records the event; a key built from user
//!   data is a bug in that code).
//!
//! What counts as a phone number (the default rule, chosen to keep the identifiers an
//! operations log is full of):
//!
//! * with a leading `+`: 9 to 15 digits, optionally grouped by single spaces, dashes, dots or a
//!   parenthesised group (`+44 (0)20 7946 0958`, `+1-555-123-4567`, `+4930123456789`);
//! * without `+`: 9 to 15 digits in at least two groups (`555-123-4567`, `(555) 123-4567`,
//!   `030 1234 5678`), except text shaped like a date (`2024-05-01 12`, `01.05.2024 1230`), a
//!   decimal (`123456.789`), a number with thousands separators (`1 234 567 890`) or an IPv4
//!   address;
//! * a bare run of digits is **not** a phone number: `4500001234` is an order number, batch or
//!   job id, not personal data;
//! * digits glued to letters (`ID5551234567`, the tail of a UUID) are not a phone number.
//!
//! Card numbers: 13 to 19 digits, bare or grouped by single spaces or dashes, starting with 2
//! to 6 (the ranges card networks issue; this keeps epoch-millisecond timestamps, which start
//! with 1), that pass the Luhn check and are not part of a longer token.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::subjects::Pseudonymiser;
use crate::StoreError;

/// The value a secret is replaced by.
pub const WITHHELD: &str = "[withheld]";

const EMAIL: &str = r"(?i)[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}";
const CARD: &str = r"\b[0-9](?:[ \-]?[0-9]){12,18}\b";
const PHONE: &str =
    r"(?:\+ ?)?(?:\([0-9]{1,5}\)[ \-.]?)?[0-9]+(?:(?:[ \-.]| ?\([0-9]{1,5}\) ?)[0-9]+)*";

static DEFAULT_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |label: &str, pattern: &str, check| Rule {
        label: label.to_owned(),
        replacement: format!("[redacted:{label}]"),
        regex: Regex::new(pattern).expect("built-in pattern"),
        check,
    };
    vec![
        rule("email", EMAIL, Check::Email),
        rule("card", CARD, Check::Card),
        rule("phone", PHONE, Check::Phone),
    ]
});

/// Redacts personal data from strings and withholds secrets from JSON payloads. Cheap to clone.
///
/// [`Redactor::default`] has the e-mail, phone and card rules; [`Redactor::none`] has no pattern
/// (secrets are still withheld: that rule cannot be turned off).
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    label: String,
    replacement: String,
    regex: Regex,
    check: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Email,
    Card,
    Phone,
    Always,
}

impl Default for Redactor {
    fn default() -> Self {
        Self {
            rules: DEFAULT_RULES.clone(),
        }
    }
}

impl Redactor {
    /// No redaction pattern at all; secrets are still withheld.
    #[must_use]
    pub fn none() -> Self {
        Self { rules: Vec::new() }
    }

    /// Adds a pattern whose matches are replaced by `[redacted:LABEL]`, applied after the
    /// others (e.g. `("employee_id", r"\bE[0-9]{6}\b")`).
    ///
    /// # Errors
    /// [`StoreError::InvalidPattern`] when `pattern` is not a valid regular expression.
    pub fn with_pattern(mut self, label: &str, pattern: &str) -> Result<Self, StoreError> {
        let regex = Regex::new(pattern).map_err(|source| StoreError::InvalidPattern {
            label: label.to_owned(),
            source,
        })?;
        self.rules.push(Rule {
            label: label.to_owned(),
            replacement: format!("[redacted:{label}]"),
            regex,
            check: Check::Always,
        });
        Ok(self)
    }

    /// The labels of the active rules, in the order they apply.
    #[must_use]
    pub fn labels(&self) -> Vec<&str> {
        self.rules.iter().map(|rule| rule.label.as_str()).collect()
    }

    /// `text` with every match of every rule replaced (borrowed when nothing matched).
    #[must_use]
    pub fn redact_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        if self.rules.is_empty() {
            return current;
        }
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        let has_at = text.contains('@');
        for rule in &self.rules {
            let worth_trying = match rule.check {
                Check::Email => has_at,
                Check::Card => digits >= 13,
                Check::Phone => digits >= 9,
                Check::Always => true,
            };
            if !worth_trying {
                continue;
            }
            if let Cow::Owned(changed) = rule.apply(&current) {
                current = Cow::Owned(changed);
            }
        }
        current
    }

    /// `value` with every string redacted and every secret withheld.
    #[must_use]
    pub fn redact_value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.redact_str(text).into_owned()),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.redact_value(item)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        let item = if is_secret_key(key) {
                            Value::String(WITHHELD.to_owned())
                        } else {
                            self.redact_value(item)
                        };
                        (key.clone(), item)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Writes `value`, redacted, as compact JSON to `out` (what is stored and hashed), without
    /// copying the value.
    ///
    /// # Errors
    /// Only when `out` fails.
    pub fn write_json<W: std::io::Write>(
        &self,
        value: &Value,
        out: W,
    ) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, &Redacted::top(value, self, None))
    }

    /// As [`Redactor::write_json`], and then with people's names replaced by their pseudonyms
    /// (`names`; see the subjects module): a string under one of the payload's identity keys
    /// is replaced whole, every other string has the registered names in it replaced word by
    /// word. Redaction comes first, so a name that is an e-mail address stays redacted.
    pub(crate) fn write_pseudonymised<W: std::io::Write>(
        &self,
        value: &Value,
        names: &Pseudonymiser<'_>,
        out: W,
    ) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, &Redacted::top(value, self, Some(names)))
    }
}

impl Rule {
    fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = String::new();
        let mut copied = 0;
        let mut changed = false;
        for found in self.regex.find_iter(text) {
            let (start, end) = (found.start(), found.end());
            let keep = match self.check {
                Check::Email | Check::Always => false,
                // After a `+` it is an international phone number, left to that rule.
                Check::Card => {
                    embedded(text, start, end)
                        || text[..start].ends_with('+')
                        || !is_card(found.as_str())
                }
                Check::Phone => embedded(text, start, end) || !is_phone(found.as_str()),
            };
            if !keep {
                out.push_str(&text[copied..start]);
                out.push_str(&self.replacement);
                copied = end;
                changed = true;
            }
        }
        if !changed {
            return Cow::Borrowed(text);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

/// Whether the match at `start..end` is part of a longer token: glued to a letter, digit or
/// `_`, or to one through a single `-`, `.` or `/` (a UUID's tail, a version string).
fn embedded(text: &str, start: usize, end: usize) -> bool {
    let wordy = |c: char| c.is_alphanumeric() || c == '_';
    let joiner = |c: char| matches!(c, '-' | '.' | '/');
    let mut before = text[..start].chars().rev();
    let glued_before = match before.next() {
        Some(c) if wordy(c) => true,
        Some(c) if joiner(c) => before.next().is_some_and(wordy),
        _ => false,
    };
    let mut after = text[end..].chars();
    let glued_after = match after.next() {
        Some(c) if wordy(c) => true,
        Some(c) if joiner(c) => after.next().is_some_and(wordy),
        _ => false,
    };
    glued_before || glued_after
}

fn is_card(candidate: &str) -> bool {
    let digits: Vec<u8> = candidate
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if !(13..=19).contains(&digits.len()) || !(2..=6).contains(&digits[0]) {
        return false;
    }
    // Not a date followed by more numbers (2024-05-01 1234 5678).
    let groups = groups(candidate);
    if groups.len() >= 3 && groups[0].0.len() == 4 && groups[1].0.len() == 2 {
        return false;
    }
    luhn(&digits)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The digit groups of `candidate`, each with the separator text that follows it.
fn groups(candidate: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let bytes = candidate.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits_end = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        out.push((&candidate[start..digits_end], &candidate[digits_end..i]));
    }
    out
}

fn is_phone(candidate: &str) -> bool {
    let digits = candidate.bytes().filter(u8::is_ascii_digit).count();
    if !(9..=15).contains(&digits) {
        return false;
    }
    if candidate.starts_with('+') {
        return true;
    }
    let groups = groups(candidate);
    if groups.len() < 2 {
        // A bare run of digits: an identifier, not a phone number.
        return false;
    }
    let has_parens = candidate.contains('(');
    let len = |i: usize| groups.get(i).map_or(0, |g| g.0.len());
    let sep = |i: usize| groups.get(i).map_or("", |g| g.1);
    let date_sep = |s: &str| matches!(s, "-" | "." | "/");
    // 2024-05-01 ..., 01.05.2024 ...
    if !has_parens
        && groups.len() >= 3
        && sep(0) == sep(1)
        && date_sep(sep(0))
        && ((len(0) == 4 && len(1) <= 2 && len(2) <= 2)
            || (len(0) <= 2 && len(1) <= 2 && len(2) == 4))
    {
        return false;
    }
    let seps: Vec<&str> = groups[..groups.len() - 1].iter().map(|g| g.1).collect();
    let all_seps = |s: &str| seps.iter().all(|x| *x == s);
    // 123456.789
    if groups.len() == 2 && seps[0] == "." {
        return false;
    }
    // 192.168.100.200
    if groups.len() == 4 && all_seps(".") && groups.iter().all(|g| g.0.len() <= 3) {
        return false;
    }
    // 1 234 567 890, 1.234.567.890
    if !has_parens
        && (all_seps(" ") || all_seps("."))
        && (1..=3).contains(&len(0))
        && groups[1..].iter().all(|g| g.0.len() == 3)
    {
        return false;
    }
    true
}

/// Whether an object key names a secret (see the module docs).
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    const SINGLE: &[&str] = &[
        "password",
        "passwords",
        "passwd",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "privatekey",
    ];
    const PAIRS: &[(&str, &str)] = &[("api", "key"), ("private", "key")];
    // Every name above contains one of these: most keys are cleared without splitting them.
    if !has_secret_hint(key.as_bytes()) {
        return false;
    }
    let mut previous: Option<&str> = None;
    for segment in segments(key) {
        if SINGLE.iter().any(|s| segment.eq_ignore_ascii_case(s)) {
            return true;
        }
        if let Some(prev) = previous {
            if PAIRS
                .iter()
                .any(|(a, b)| prev.eq_ignore_ascii_case(a) && segment.eq_ignore_ascii_case(b))
            {
                return true;
            }
        }
        previous = Some(segment);
    }
    false
}

/// Whether `key` contains `pass`, `secret`, `token`, `key` or `credential` (ASCII, any case).
fn has_secret_hint(key: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 5] = [b"pass", b"secret", b"token", b"key", b"credential"];
    key.iter().enumerate().any(|(i, byte)| {
        let needle = match byte.to_ascii_lowercase() {
            b'p' => NEEDLES[0],
            b's' => NEEDLES[1],
            b't' => NEEDLES[2],
            b'k' => NEEDLES[3],
            b'c' => NEEDLES[4],
            _ => return false,
        };
        key.get(i..i + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}

/// `key` split at non-alphanumeric characters and camelCase boundaries (`APIKey` → `API`,
/// `Key`; `clientSecret2` → `client`, `Secret2`).
fn segments(key: &str) -> impl Iterator<Item = &str> {
    let chars: Vec<(usize, char)> = key.char_indices().collect();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &(pos, c)) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(&key[s..pos]);
            }
            continue;
        }
        if let Some(s) = start {
            let prev = chars[i - 1].1;
            let next = chars.get(i + 1).map(|&(_, n)| n);
            let boundary = c.is_uppercase()
                && (prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next.is_some_and(char::is_lowercase)));
            if boundary {
                out.push(&key[s..pos]);
                start = Some(pos);
            }
        } else {
            start = Some(pos);
        }
    }
    if let Some(s) = start {
        out.push(&key[s..]);
    }
    out.into_iter()
}

/// Serialises a payload with the rules applied, without building a redacted copy.
struct Redacted<'a> {
    value: &'a Value,
    redactor: &'a Redactor,
    /// Names to replace by pseudonyms, when pseudonymising.
    names: Option<&'a Pseudonymiser<'a>>,
    /// Whether `value` is the payload itself (identity keys are its top-level keys).
    top: bool,
    /// Whether `value` sits under an identity key of the payload.
    identity: bool,
}

impl<'a> Redacted<'a> {
    fn top(value: &'a Value, redactor: &'a Redactor, names: Option<&'a Pseudonymiser<'a>>) -> Self {
        Self {
            value,
            redactor,
            names,
            top: true,
            identity: false,
        }
    }

    fn child(&self, value: &'a Value, identity: bool) -> Self {
        Self {
            value,
            redactor: self.redactor,
            names: self.names,
            top: false,
            identity,
        }
    }
}

impl Serialize for Redacted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::String(text) => {
                let redacted = self.redactor.redact_str(text);
                let Some(names) = self.names else {
                    return serializer.serialize_str(&redacted);
                };
                if self.identity && matches!(redacted, Cow::Borrowed(_)) {
                    if let Some(pseudonym) = names.pseudonym_of(text) {
                        return serializer.serialize_str(pseudonym);
                    }
                }
                serializer.serialize_str(&names.replace_names(&redacted))
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    seq.serialize_element(&self.child(value, false))?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    if is_secret_key(key) {
                        map.serialize_entry(key, WITHHELD)?;
                    } else {
                        let identity =
                            self.top && self.names.is_some_and(|names| names.is_identity_key(key));
                        map.serialize_entry(key, &self.child(value, identity))?;
                    }
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn redact(text: &str) -> String {
        Redactor::default().redact_str(text).into_owned()
    }

    #[test]
    fn emails_are_redacted() {
        assert_eq!(
            redact("mail Jane.Doe+ops@plant-3.example.com now"),
            "mail [redacted:email] now"
        );
        assert_eq!(redact("a@b is not an address"), "a@b is not an address");
    }

    #[test]
    fn phone_numbers_are_redacted() {
        for phone in [
            "+44 (0)20 7946 0958",
            "+44 (0) 20 7946 0958",
            "+1-555-123-4567",
            "+4930123456789",
            "+49 30 1234 5678",
            "555-123-4567",
            "(555) 123-4567",
            "555.123.4567",
            "030 1234 5678",
            "0171 1234567",
        ] {
            assert_eq!(
                redact(&format!("call {phone} now")),
                "call [redacted:phone] now",
                "{phone}"
            );
        }
        assert_eq!(redact("tel:+15551234567"), "tel:[redacted:phone]");
    }

    #[test]
    fn dates_times_ids_and_amounts_are_not_phone_numbers() {
        for kept in [
            "order 4500001234 shipped",
            "at 2024-05-01 12:30:45",
            "at 2024-05-01T12:30:45.123Z",
            "on 01.05.2024 1230",
            "epoch 1714566645123",
            "total 123456.789",
            "total 1 234 567 890",
            "total 1.234.567.890",
            "host 192.168.100.200",
            "trace 123e4567-e89b-12d3-a456-426614174000",
            "id ID5551234567",
            "job J-555-123-4567",
            "short 555-1234",
        ] {
            assert_eq!(redact(kept), kept);
        }
    }

    #[test]
    fn text_with_nothing_to_redact_is_not_copied() {
        let redactor = Redactor::default();
        for kept in ["order 4500001234", "plain", "a@b", ""] {
            assert!(
                matches!(redactor.redact_str(kept), Cow::Borrowed(_)),
                "{kept}"
            );
        }
    }

    #[test]
    fn card_numbers_that_pass_luhn_are_redacted() {
        for card in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111111111111111",
            "5500 0000 0000 0004",
            "3782 822463 10005",
        ] {
            assert_eq!(
                redact(&format!("card {card}.")),
                "card [redacted:card].",
                "{card}"
            );
        }
        // Fails Luhn, starts with 1 (a timestamp), or part of a longer token.
        for kept in [
            "card 4111 1111 1111 1112",
            "ts 1714566645123456",
            "uuid 0b5e3c1a-9e0d-4f5e-4111-111111111111",
        ] {
            assert!(!redact(kept).contains("card]"), "{kept}");
        }
    }

    #[test]
    fn extra_patterns_apply_and_bad_ones_are_refused_with_a_hint() {
        let redactor = Redactor::default()
            .with_pattern("employee_id", r"\bE[0-9]{6}\b")
            .unwrap();
        assert_eq!(
            redactor.redact_str("by E123456 (e@x.io)"),
            "by [redacted:employee_id] ([redacted:email])"
        );
        assert_eq!(redactor.labels(), ["email", "card", "phone", "employee_id"]);
        let err = Redactor::default().with_pattern("bad", "(").unwrap_err();
        assert!(matches!(err, StoreError::InvalidPattern { .. }), "{err}");
        assert!(err.to_string().contains("bad"));
        assert_eq!(
            Redactor::none().redact_str("jane@example.com"),
            "jane@example.com"
        );
    }

    #[test]
    fn secret_keys_are_recognised_by_segment() {
        for key in [
            "password",
            "db_password",
            "Passwd",
            "clientSecret",
            "AUTH_TOKEN",
            "accessToken",
            "api_key",
            "apiKey",
            "X-Api-Key",
            "APIKey",
            "apikey",
            "private_key",
            "privateKey",
            "credentials",
            "aws.credential",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "tokenizer",
            "max_tokens",
            "key",
            "api",
            "keyboard",
            "secretary",
            "user",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn payloads_are_redacted_in_values_only_and_secrets_withheld_at_any_depth() {
        let payload = json!({
            "user": "jane@example.com",
            "jane@example.com": 1,
            "args": [{"host": "db1", "password": "hunter2"}, "call +1 555 123 4567"],
            "auth": {"apiKey": {"nested": "x"}, "token": 42},
            "count": 3,
            "ok": true
        });
        let expected = json!({
            "user": "[redacted:email]",
            "jane@example.com": 1,
            "args": [{"host": "db1", "password": WITHHELD}, "call [redacted:phone]"],
            "auth": {"apiKey": WITHHELD, "token": WITHHELD},
            "count": 3,
            "ok": true
        });
        let redactor = Redactor::default();
        assert_eq!(redactor.redact_value(&payload), expected);
        let mut written = Vec::new();
        redactor.write_json(&payload, &mut written).unwrap();
        assert_eq!(written, serde_json::to_vec(&expected).unwrap());
        assert!(!String::from_utf8(written).unwrap().contains("hunter2"));
    }
}
