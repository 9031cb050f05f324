//! What happens to an attribute's text before it is kept: secrets withheld, the configured
//! scrubber applied, the length capped.

use std::sync::Arc;

/// Rewrites an attribute's text before it is stored: given the field name and the value,
/// returns what to keep (e.g. personal data replaced). Numbers and booleans never pass
/// through it.
pub type Scrubber = Arc<dyn Fn(&str, String) -> String + Send + Sync>;

/// What a value under a secret-named field is replaced with.
pub const WITHHELD: &str = "[withheld]";

/// The longest attribute text kept, in characters; longer text is cut and ends with `…`.
pub const MAX_ATTRIBUTE_CHARS: usize = 4096;

/// Whether a field name names a secret: one of its segments (split at `_`, `-`, `.`, any
/// other non-alphanumeric character and camelCase boundaries, any case) is `password(s)`,
/// `passwd`, `passphrase(s)`, `secret(s)`, `token`, `apikey`, `privatekey` or
/// `credential(s)`, or two neighbouring segments are `api key` or `private key`.
/// `tokens`, `prompt_tokens` and `tokenizer` are not secret names.
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    const SINGLE: &[&str] = &[
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "passphrases",
        "secret",
        "secrets",
        "token",
        "apikey",
        "privatekey",
        "credential",
        "credentials",
    ];
    const PAIRS: &[(&str, &str)] = &[("api", "key"), ("private", "key")];
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

/// The text kept for a field: [`WITHHELD`] under a secret name, else `extra`'s rewrite,
/// capped at [`MAX_ATTRIBUTE_CHARS`].
pub(crate) fn scrub(extra: Option<&Scrubber>, key: &str, value: String) -> String {
    if is_secret_key(key) {
        return WITHHELD.to_owned();
    }
    let value = match extra {
        Some(scrubber) => scrubber(key, value),
        None => value,
    };
    cap(value, MAX_ATTRIBUTE_CHARS)
}

/// `text` cut to at most `max` characters, the last one `…` when it was cut.
pub(crate) fn cap(mut text: String, max: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max) {
        let keep = text[..cut]
            .char_indices()
            .nth(max.saturating_sub(1))
            .map_or(cut, |(i, _)| i);
        text.truncate(keep);
        text.push('…');
    }
    text
}

/// `key` split at non-alphanumeric characters and camelCase boundaries (`APIKey` → `API`,
/// `Key`; `clientSecret2` → `client`, `Secret2`).
fn segments(key: &str) -> Vec<&str> {
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
        match start {
            None => start = Some(pos),
            Some(s) => {
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
            }
        }
    }
    if let Some(s) = start {
        out.push(&key[s..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_recognised_in_every_spelling() {
        for key in [
            "password",
            "db_password",
            "PASSWD",
            "client-secret",
            "clientSecret",
            "auth.token",
            "accessToken",
            "api_key",
            "apiKey",
            "APIKey",
            "apikey",
            "private_key",
            "privateKey",
            "credentials",
            "sap_credential",
            "approver_passphrase",
        ] {
            assert!(is_secret_key(key), "{key} should be secret");
        }
    }

    #[test]
    fn token_counts_and_tokenizers_are_not_secrets() {
        for key in [
            "tokens",
            "prompt_tokens",
            "completionTokens",
            "tokenizer",
            "tokens_per_s",
            "keyword",
            "primary_key",
            "secretary",
            "request",
        ] {
            assert!(!is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn a_secret_named_value_is_withheld_before_the_scrubber_sees_it() {
        let seen: Scrubber = Arc::new(|_, _| panic!("the scrubber saw a secret"));
        assert_eq!(scrub(Some(&seen), "api_key", "sk-123".into()), WITHHELD);
    }

    #[test]
    fn the_scrubber_rewrites_other_values() {
        let upper: Scrubber = Arc::new(|key, value| format!("{key}:{}", value.to_uppercase()));
        assert_eq!(scrub(Some(&upper), "host", "pump".into()), "host:PUMP");
        assert_eq!(scrub(None, "host", "pump".into()), "pump");
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_an_ellipsis() {
        let long = "é".repeat(MAX_ATTRIBUTE_CHARS + 10);
        let kept = scrub(None, "text", long);
        assert_eq!(kept.chars().count(), MAX_ATTRIBUTE_CHARS);
        assert!(kept.ends_with("é…"));
        let exact = "x".repeat(MAX_ATTRIBUTE_CHARS);
        assert_eq!(scrub(None, "text", exact.clone()), exact);
    }
}
