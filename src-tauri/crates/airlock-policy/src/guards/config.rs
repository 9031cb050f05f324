//! Config guard for `set_config`-style writes.
//!
//! A key is accepted when it is 1 to `max_key_length` characters of `[A-Za-z0-9._-]` and none
//! of its words is sensitive. The key is split into words on `.`, `_` and `-`, on camelCase
//! boundaries (`apiKey` → `api`, `key`; `APIKey` → `api`, `key`) and between letters and digits
//! (`token2` → `token`, `2`); words are compared without case. A configured sensitive word
//! matches a whole word or its plural (`key`, `keys`), and a configured word that itself has
//! several words (`api_key`) matches those words in a row. So `db.password`, `apiKey`,
//! `ssh_private_key` and `tokens` are refused, while `keyboard_layout` and `monkey` are not.
//!
//! When the value is a JSON object, the keys inside it (at any depth) are checked the same way,
//! so `set_config("db", {"password": …})` is refused like `set_config("db.password", …)`.

use serde::Deserialize;

use super::Violation;

/// Deepest accepted nesting of arrays and objects in a value.
pub const MAX_VALUE_DEPTH: usize = 64;

/// Settings of the config guard (the `[config]` section of `policy/guards.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigGuardConfig {
    /// Words that make a key sensitive (see the module documentation for how they match).
    pub sensitive_key_words: Vec<String>,
    /// Longest accepted key, in characters.
    pub max_key_length: usize,
    /// Largest accepted value, in bytes of compact JSON.
    pub max_value_bytes: usize,
}

impl Default for ConfigGuardConfig {
    fn default() -> Self {
        Self {
            sensitive_key_words: [
                "password",
                "passwd",
                "token",
                "secret",
                "key",
                "credential",
                "private",
                "apikey",
                "api_key",
            ]
            .iter()
            .map(|w| (*w).to_owned())
            .collect(),
            max_key_length: 128,
            max_value_bytes: 65_536,
        }
    }
}

/// The config guard; build it once from its config.
#[derive(Debug, Clone)]
pub struct ConfigGuard {
    /// Each sensitive word, split into its own words.
    sensitive: Vec<Vec<String>>,
    max_key_length: usize,
    max_value_bytes: usize,
}

impl ConfigGuard {
    /// A guard with `config`.
    #[must_use]
    pub fn new(config: ConfigGuardConfig) -> Self {
        Self {
            sensitive: config
                .sensitive_key_words
                .iter()
                .map(|w| key_words(w))
                .filter(|w| !w.is_empty())
                .collect(),
            max_key_length: config.max_key_length,
            max_value_bytes: config.max_value_bytes,
        }
    }

    /// Checks a write of `value` to `key`.
    pub fn check(&self, key: &str, value: &serde_json::Value) -> Result<(), Violation> {
        self.check_key(key)?;
        // Walk without recursion first (a value built in code can be deeper than any parser
        // allows, and serialising it would recurse), checking nested keys and the depth.
        let mut pending = vec![(value, 0usize)];
        while let Some((value, depth)) = pending.pop() {
            if depth > MAX_VALUE_DEPTH {
                return Err(Violation::new(
                    "config.value_too_large",
                    format!(
                        "the value is nested more than {MAX_VALUE_DEPTH} levels deep; flatten it"
                    ),
                ));
            }
            match value {
                serde_json::Value::Object(map) => {
                    for (nested, inner) in map {
                        self.check_sensitive(nested)
                            .map_err(|v| nested_violation(key, nested, v))?;
                        pending.push((inner, depth + 1));
                    }
                }
                serde_json::Value::Array(items) => {
                    pending.extend(items.iter().map(|item| (item, depth + 1)));
                }
                _ => {}
            }
        }
        let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
        if size > self.max_value_bytes {
            return Err(Violation::new(
                "config.value_too_large",
                format!(
                    "the value is {size} bytes of JSON; at most {} are accepted",
                    self.max_value_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Checks a key alone: its length, its characters and its words.
    pub fn check_key(&self, key: &str) -> Result<(), Violation> {
        if key.is_empty() {
            return Err(Violation::new(
                "config.empty_key",
                "the key is empty; give a dotted key such as `logging.level`",
            ));
        }
        let length = key.chars().count();
        if length > self.max_key_length {
            return Err(Violation::new(
                "config.key_too_long",
                format!(
                    "the key is {length} characters long; at most {} are accepted",
                    self.max_key_length
                ),
            ));
        }
        if let Some(c) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(Violation::new(
                "config.invalid_key",
                format!(
                    "the key contains {c:?}; use only letters A-Z and a-z, digits, `.`, `_` and `-`"
                ),
            ));
        }
        self.check_sensitive(key)
    }

    fn check_sensitive(&self, key: &str) -> Result<(), Violation> {
        let words = key_words(key);
        for sensitive in &self.sensitive {
            if contains_words(&words, sensitive) {
                return Err(Violation::new(
                    "config.sensitive_key",
                    format!(
                        "`{key}` looks like a secret (it has the word `{}`); secrets are not set through the assistant — change them in the credential store",
                        sensitive.join("_")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn nested_violation(key: &str, nested: &str, violation: Violation) -> Violation {
    Violation::new(
        violation.rule,
        format!(
            "inside the value of `{key}`, key `{nested}`: {}",
            violation.message
        ),
    )
}

/// Whether `words` has `needle` as consecutive words, the last one possibly plural.
fn contains_words(words: &[String], needle: &[String]) -> bool {
    let Some((last, first)) = needle.split_last() else {
        return false;
    };
    words.windows(needle.len()).any(|window| {
        let Some((window_last, window_first)) = window.split_last() else {
            return false;
        };
        window_first == first
            && (window_last == last
                || window_last
                    .strip_suffix('s')
                    .is_some_and(|stem| stem == last))
    })
}

/// Splits a key into lowercase words: on any character that is not a letter or digit, on a
/// lowercase-to-uppercase step, before the last capital of a run of capitals followed by a
/// lowercase letter (`APIKey` → `API`, `Key`), and between letters and digits.
#[must_use]
pub fn key_words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if let Some(&previous) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let next = chars.get(i + 1).copied();
            let boundary = (previous.is_lowercase() && c.is_uppercase())
                || (previous.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(char::is_lowercase))
                || (previous.is_alphabetic() && c.is_numeric())
                || (previous.is_numeric() && c.is_alphabetic());
            if boundary && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn guard() -> ConfigGuard {
        ConfigGuard::new(ConfigGuardConfig::default())
    }

    fn rule(key: &str) -> Option<String> {
        guard().check(key, &json!("x")).err().map(|v| v.rule)
    }

    #[test]
    fn splits_keys_into_words() {
        assert_eq!(key_words("db.password"), ["db", "password"]);
        assert_eq!(key_words("apiKey"), ["api", "key"]);
        assert_eq!(key_words("APIKey"), ["api", "key"]);
        assert_eq!(key_words("ssh_private_key"), ["ssh", "private", "key"]);
        assert_eq!(key_words("log-Level2x"), ["log", "level", "2", "x"]);
        assert_eq!(key_words("keyboard_layout"), ["keyboard", "layout"]);
        assert_eq!(
            key_words("HTTPServer.maxConns"),
            ["http", "server", "max", "conns"]
        );
        assert!(key_words("..").is_empty());
    }

    #[test]
    fn refuses_sensitive_keys_by_word() {
        for key in [
            "db.password",
            "DB_PASSWORD",
            "apiKey",
            "api_key",
            "apikey",
            "ApiKey",
            "ssh_private_key",
            "auth.token",
            "tokens",
            "client-secret",
            "mqtt.credentials",
            "passwd",
            "line3.label.key",
            "privateKeyPath",
            "token2",
        ] {
            assert_eq!(rule(key).as_deref(), Some("config.sensitive_key"), "{key}");
        }
    }

    #[test]
    fn accepts_keys_that_only_contain_a_sensitive_word_inside_another() {
        for key in [
            "keyboard_layout",
            "monkey",
            "log.level",
            "turkey.count",
            "secretary.name",
            "tokenizer.model",
            "passwordless",
            "line3.hotkeys",
        ] {
            assert_eq!(rule(key), None, "{key}");
        }
    }

    #[test]
    fn refuses_empty_long_and_badly_formed_keys() {
        assert_eq!(rule("").as_deref(), Some("config.empty_key"));
        assert_eq!(rule(&"a".repeat(128)), None);
        assert_eq!(
            rule(&"a".repeat(129)).as_deref(),
            Some("config.key_too_long")
        );
        for key in [
            "log level",
            "a/b",
            "a=b",
            "ключ",
            "a\0b",
            "a$b",
            "logging.level\n",
        ] {
            assert_eq!(rule(key).as_deref(), Some("config.invalid_key"), "{key:?}");
        }
    }

    #[test]
    fn refuses_sensitive_keys_nested_in_the_value() {
        let g = guard();
        let v = g
            .check(
                "db",
                &json!({"host": "x", "auth": [{"user": "a", "password": "b"}]}),
            )
            .expect_err("refused");
        assert_eq!(v.rule, "config.sensitive_key");
        assert!(v.message.contains("password"), "{}", v.message);
        assert!(g.check("db", &json!({"host": "x", "port": 5432})).is_ok());
        assert!(g.check("db", &json!({"display name": 1})).is_ok());
    }

    #[test]
    fn refuses_values_that_are_too_large() {
        let g = guard();
        let big = json!("x".repeat(70_000));
        assert_eq!(
            g.check("logging.banner", &big).expect_err("refused").rule,
            "config.value_too_large"
        );
    }

    #[test]
    fn refuses_deeply_nested_values_without_overflowing_the_stack() {
        let mut value = json!(1);
        for _ in 0..5_000 {
            value = serde_json::Value::Array(vec![value]);
        }
        assert_eq!(
            guard().check("a", &value).expect_err("refused").rule,
            "config.value_too_large"
        );
        // Dropping the value recurses once per level; do not spend the test's stack on it.
        std::mem::forget(value);
        let mut value = json!(1);
        for _ in 0..MAX_VALUE_DEPTH {
            value = serde_json::Value::Array(vec![value]);
        }
        assert!(guard().check("a", &value).is_ok());
    }

    #[test]
    fn config_defaults_and_rejects_unknown_fields() {
        let config: ConfigGuardConfig =
            toml::from_str("sensitive_key_words = [\"pin\"]").expect("parse");
        assert_eq!(config.max_key_length, 128);
        let g = ConfigGuard::new(config);
        assert!(g.check("door.pin", &json!(1)).is_err());
        assert!(g.check("db.password", &json!(1)).is_ok());
        assert!(toml::from_str::<ConfigGuardConfig>("words = []").is_err());
    }

    proptest! {
        #[test]
        fn check_never_panics(key in "\\PC{0,200}") {
            let _ = guard().check(&key, &json!({"a": [1, {"b": null}]}));
        }

        #[test]
        fn a_sensitive_word_between_separators_is_always_refused(
            prefix in "[a-z]{1,8}",
            separator in "[._-]",
            word in proptest::sample::select(vec!["password", "token", "secret", "key", "credential", "private", "apikey"]),
        ) {
            let key = format!("{prefix}{separator}{word}");
            let found = rule(&key);
            prop_assert_eq!(found.as_deref(), Some("config.sensitive_key"));
        }
    }
}
