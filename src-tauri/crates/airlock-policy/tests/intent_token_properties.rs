//! Property tests of intent tokens and canonical JSON over random argument maps.

use airlock_policy::canonical::{args_digest, canonical_json};
use airlock_policy::token::{TokenError, TokenIssuer, TokenVerifier};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn issuer() -> TokenIssuer {
    TokenIssuer::new(SigningKey::from_bytes(&[42; 32]), Duration::from_secs(60))
}

/// Object keys: short ASCII ones (so maps share keys and nest) and arbitrary Unicode ones
/// (control characters, astral characters for the UTF-16 ordering).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-e]{0,3}", 1 => any::<String>()]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n))),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        any::<String>().prop_map(Value::String),
        "/sim/logs/[a-c]{1,2}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn args_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..6).prop_map(|m| m.into_iter().collect())
}

/// A copy of `value` with every object's keys re-inserted in a seed-dependent order.
fn reordered(value: &Value, seed: &mut u64) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| reordered(v, seed)).collect()),
        Value::Object(map) => Value::Object(reordered_map(map, seed)),
        other => other.clone(),
    }
}

fn reordered_map(map: &Map<String, Value>, seed: &mut u64) -> Map<String, Value> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    // Fisher-Yates with xorshift64.
    for i in (1..members.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = usize::try_from(*seed % (i as u64 + 1)).unwrap_or(0);
        members.swap(i, j);
    }
    members
        .into_iter()
        .map(|(k, v)| (k.clone(), reordered(v, seed)))
        .collect()
}

/// A map that is a different JSON object from `args`: one member removed, renamed, or its
/// value wrapped in an array; or one member added.
fn mutated(args: &Map<String, Value>, choice: usize) -> Map<String, Value> {
    let mut changed = args.clone();
    let keys: Vec<String> = args.keys().cloned().collect();
    if keys.is_empty() {
        changed.insert("added".into(), Value::Null);
        return changed;
    }
    let key = &keys[choice % keys.len()];
    match (choice / keys.len()) % 4 {
        0 => {
            changed.remove(key);
        }
        1 => {
            let value = changed.remove(key).unwrap_or(Value::Null);
            let mut renamed = format!("{key}~");
            while changed.contains_key(&renamed) {
                renamed.push('~');
            }
            changed.insert(renamed, value);
        }
        2 => {
            let value = changed.remove(key).unwrap_or(Value::Null);
            changed.insert(key.clone(), Value::Array(vec![value]));
        }
        _ => {
            let mut added = format!("{key}+");
            while changed.contains_key(&added) {
                added.push('+');
            }
            changed.insert(added, Value::Null);
        }
    }
    changed
}

/// JSON equality where numbers compare by value: canonical JSON prints an integral float as
/// an integer (RFC 8785), which serde_json parses back as an integer.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(xm), Value::Object(ym)) => {
            xm.len() == ym.len()
                && xm
                    .iter()
                    .all(|(k, x)| ym.get(k).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn a_token_verifies_for_exactly_the_arguments_it_was_issued_for(
        approved in args_map(),
        other in args_map(),
        choice in any::<usize>(),
    ) {
        let issuer = issuer();
        let token = issuer.issue("tool", &approved, "operator", "d", now());

        let verifier = TokenVerifier::new(issuer.verifying_key());
        prop_assert!(verifier.verify(Some(&token), "tool", &approved, "operator", now()).is_ok());

        let near = mutated(&approved, choice);
        let verifier = TokenVerifier::new(issuer.verifying_key());
        let result = verifier.verify(Some(&token), "tool", &near, "operator", now());
        prop_assert!(matches!(result, Err(TokenError::ArgsMismatch { .. })), "{:?}", result);

        let same_object =
            canonical_json(&Value::Object(other.clone())) == canonical_json(&Value::Object(approved));
        let verifier = TokenVerifier::new(issuer.verifying_key());
        let result = verifier.verify(Some(&token), "tool", &other, "operator", now());
        if same_object {
            prop_assert!(result.is_ok(), "{:?}", result);
        } else {
            prop_assert!(matches!(result, Err(TokenError::ArgsMismatch { .. })), "{:?}", result);
        }
    }

    #[test]
    fn canonical_json_does_not_depend_on_key_insertion_order(
        args in args_map(),
        seed in any::<u64>(),
    ) {
        let mut seed = seed | 1;
        let shuffled = reordered_map(&args, &mut seed);
        prop_assert_eq!(
            canonical_json(&Value::Object(args.clone())),
            canonical_json(&Value::Object(shuffled.clone()))
        );
        prop_assert_eq!(args_digest(&args), args_digest(&shuffled));

        let issuer = issuer();
        let token = issuer.issue("tool", &args, "operator", "d", now());
        let verifier = TokenVerifier::new(issuer.verifying_key());
        prop_assert!(verifier.verify(Some(&token), "tool", &shuffled, "operator", now()).is_ok());
    }

    #[test]
    fn canonical_json_of_any_value_is_stable_under_reordering(
        value in json_value(),
        seed in any::<u64>(),
    ) {
        let mut seed = seed | 1;
        prop_assert_eq!(canonical_json(&value), canonical_json(&reordered(&value, &mut seed)));
    }

    #[test]
    fn canonical_json_parses_back_to_an_equal_value(value in json_value()) {
        let text = canonical_json(&value);
        let back: Value = serde_json::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert!(same_json(&value, &back), "{} became {}", value, back);
        prop_assert_eq!(canonical_json(&back), text, "canonical JSON is a fixed point");
    }
}
