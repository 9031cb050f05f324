//! `$filter`: tokens, a recursive-descent parser bounded in length and depth, type checks
//! against the entity type, and evaluation.
//!
//! Grammar (keywords lowercase, as in OData):
//! ```text
//! expr    := and ( "or" and )*
//! and     := term ( "and" term )*
//! term    := "(" expr ")" | "not" term | function [ ("eq" | "ne") ("true" | "false") ]
//!          | Property op literal
//! function:= "substringof" "(" string "," Property ")" | "startswith" "(" Property "," string ")"
//! op      := "eq" | "ne" | "gt" | "ge" | "lt" | "le"
//! literal := 'text' (with '' for a quote) | integer | "true" | "false" | datetime'YYYY-MM-DDThh:mm[:ss[.f]]'
//! ```

use std::cmp::Ordering;

use serde_json::Value;
use time::macros::format_description;
use time::PrimitiveDateTime;

use crate::data::Entity;
use crate::model::{EntitySet, Kind, Property};
use crate::odata;
use crate::query::QueryError;

/// The longest `$filter` accepted, in bytes.
pub(crate) const MAX_LENGTH: usize = 4096;
/// The deepest nesting of parentheses and `not` accepted.
pub(crate) const MAX_DEPTH: usize = 32;

const OPTION: &str = "$filter";

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn from_word(word: &str) -> Option<Op> {
        Some(match word {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering.is_eq(),
            Op::Ne => ordering.is_ne(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
        }
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    String(String),
    Integer(i64),
    Boolean(bool),
    /// Milliseconds since the epoch.
    DateTime(i64),
}

impl Literal {
    fn edm_name(&self) -> &'static str {
        match self {
            Literal::String(_) => "Edm.String",
            Literal::Integer(n) if i32::try_from(*n).is_ok() => "Edm.Int32",
            Literal::Integer(_) => "Edm.Int64",
            Literal::Boolean(_) => "Edm.Boolean",
            Literal::DateTime(_) => "Edm.DateTime",
        }
    }

    /// How a property value compares with this literal (`None` if it cannot).
    fn compare(&self, kind: Kind, value: &Value) -> Option<Ordering> {
        match (kind, self) {
            (Kind::String, Literal::String(text)) => Some(value.as_str()?.cmp(text.as_str())),
            (Kind::DateTime, Literal::DateTime(millis)) => {
                Some(odata::parse_date(value.as_str()?)?.cmp(millis))
            }
            (Kind::Boolean, Literal::Boolean(flag)) => Some(value.as_bool()?.cmp(flag)),
            (Kind::Decimal, Literal::Integer(n)) => value
                .as_str()?
                .parse::<f64>()
                .ok()?
                .partial_cmp(&(*n as f64)),
            _ => None,
        }
    }
}

/// A parsed, type-checked `$filter`.
#[derive(Debug)]
pub(crate) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare {
        property: &'static Property,
        op: Op,
        literal: Literal,
    },
    SubstringOf {
        property: &'static Property,
        text: String,
    },
    StartsWith {
        property: &'static Property,
        text: String,
    },
}

impl Filter {
    /// Parses `input` against the properties of `set`.
    pub(crate) fn parse(input: &str, set: &'static EntitySet) -> Result<Filter, QueryError> {
        if input.len() > MAX_LENGTH {
            return Err(QueryError::TooLong(MAX_LENGTH));
        }
        let tokens = tokenize(input)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            end: input.len(),
            set,
        };
        let filter = parser.expression(0)?;
        match parser.peek() {
            None => Ok(filter),
            Some(token) => Err(syntax(
                token.at,
                format!("unexpected {}", describe(&token.kind)),
            )),
        }
    }

    /// Whether `entity` passes the filter. Matching is case-sensitive, as on the gateway.
    pub(crate) fn matches(&self, entity: &Entity) -> bool {
        let text = |property: &Property| {
            entity
                .fields
                .get(property.name)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        match self {
            Filter::Or(a, b) => a.matches(entity) || b.matches(entity),
            Filter::And(a, b) => a.matches(entity) && b.matches(entity),
            Filter::Not(inner) => !inner.matches(entity),
            Filter::Compare {
                property,
                op,
                literal,
            } => entity
                .fields
                .get(property.name)
                .and_then(|value| literal.compare(property.kind, value))
                .is_some_and(|ordering| op.holds(ordering)),
            Filter::SubstringOf { property, text: t } => text(property).contains(t.as_str()),
            Filter::StartsWith { property, text: t } => text(property).starts_with(t.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Word(String),
    String(String),
    DateTime(String),
    Integer(i64),
    Open,
    Close,
    Comma,
}

#[derive(Debug)]
struct Token {
    kind: TokenKind,
    /// Byte offset in the expression (reported 1-based).
    at: usize,
}

fn syntax(at: usize, problem: String) -> QueryError {
    QueryError::Syntax {
        option: OPTION,
        position: at + 1,
        problem,
    }
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Word(word) => format!("'{word}'"),
        TokenKind::String(text) => format!("string literal {}", odata::quote(text)),
        TokenKind::DateTime(text) => format!("datetime'{text}'"),
        TokenKind::Integer(n) => format!("number {n}"),
        TokenKind::Open => "'('".into(),
        TokenKind::Close => "')'".into(),
        TokenKind::Comma => "','".into(),
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let kind = match c {
            _ if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' | ')' | ',' => {
                chars.next();
                match c {
                    '(' => TokenKind::Open,
                    ')' => TokenKind::Close,
                    _ => TokenKind::Comma,
                }
            }
            '\'' => TokenKind::String(string_literal(&mut chars, at)?),
            '-' | '0'..='9' => {
                let mut text = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_digit() || (d == '-' && text.is_empty()) {
                        text.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let number = text
                    .parse()
                    .map_err(|_| syntax(at, format!("invalid number '{text}'")))?;
                TokenKind::Integer(number)
            }
            _ if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::new();
                while let Some(&(_, w)) = chars.peek() {
                    if w.is_ascii_alphanumeric() || w == '_' {
                        word.push(w);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word == "datetime" && matches!(chars.peek(), Some((_, '\''))) {
                    let quote_at = chars.peek().map_or(at, |&(i, _)| i);
                    TokenKind::DateTime(string_literal(&mut chars, quote_at)?)
                } else {
                    TokenKind::Word(word)
                }
            }
            _ => return Err(syntax(at, format!("unexpected character '{c}'"))),
        };
        tokens.push(Token { kind, at });
    }
    Ok(tokens)
}

/// Reads `'...'` (the opening quote is next), with `''` standing for one quote.
fn string_literal(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    at: usize,
) -> Result<String, QueryError> {
    chars.next();
    let mut text = String::new();
    loop {
        match chars.next() {
            Some((_, '\'')) => {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                    text.push('\'');
                } else {
                    return Ok(text);
                }
            }
            Some((_, c)) => text.push(c),
            None => return Err(syntax(at, "unterminated string literal".into())),
        }
    }
}

/// `datetime'…'` as milliseconds since the epoch (UTC).
fn datetime_literal(text: &str, at: usize) -> Result<i64, QueryError> {
    let formats = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    formats
        .iter()
        .find_map(|format| PrimitiveDateTime::parse(text, format).ok())
        .map(|at| {
            let nanos = at.assume_utc().unix_timestamp_nanos();
            i64::try_from(nanos.div_euclid(1_000_000)).unwrap_or(i64::MAX)
        })
        .ok_or_else(|| syntax(at, format!("invalid datetime literal datetime'{text}'")))
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    end: usize,
    set: &'static EntitySet,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_word(&self, offset: usize) -> Option<&str> {
        match &self.tokens.get(self.next + offset)?.kind {
            TokenKind::Word(word) => Some(word),
            _ => None,
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.peek_word(0) == Some(word);
        if found {
            self.next += 1;
        }
        found
    }

    /// Consumes the next token, which must be `want`; `what` names it in the error.
    fn expect(&mut self, want: &TokenKind, what: &str) -> Result<(), QueryError> {
        match self.peek() {
            Some(token) if token.kind == *want => {
                self.next += 1;
                Ok(())
            }
            other => Err(self.unexpected(other, what)),
        }
    }

    fn unexpected(&self, found: Option<&Token>, wanted: &str) -> QueryError {
        match found {
            Some(token) => syntax(
                token.at,
                format!("expected {wanted}, found {}", describe(&token.kind)),
            ),
            None => syntax(
                self.end,
                format!("expected {wanted}, found the end of the expression"),
            ),
        }
    }

    fn expression(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut left = self.conjunction(depth)?;
        while self.eat_word("or") {
            let right = self.conjunction(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn conjunction(&mut self, depth: usize) -> Result<Filter, QueryError> {
        let mut left = self.term(depth)?;
        while self.eat_word("and") {
            let right = self.term(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self, depth: usize) -> Result<Filter, QueryError> {
        if depth >= MAX_DEPTH {
            return Err(QueryError::TooDeep(MAX_DEPTH));
        }
        if self.eat_word("not") {
            return Ok(Filter::Not(Box::new(self.term(depth + 1)?)));
        }
        if matches!(self.peek(), Some(t) if t.kind == TokenKind::Open) {
            self.next += 1;
            let inner = self.expression(depth + 1)?;
            self.expect(&TokenKind::Close, "')'")?;
            return Ok(inner);
        }
        let is_call =
            matches!(self.tokens.get(self.next + 1), Some(t) if t.kind == TokenKind::Open);
        match self.peek_word(0) {
            Some("substringof") if is_call => {
                self.next += 2;
                let text = self.string("a string literal")?;
                self.expect(&TokenKind::Comma, "','")?;
                let property = self.string_property("substringof")?;
                self.expect(&TokenKind::Close, "')'")?;
                self.boolean_suffix(Filter::SubstringOf { property, text })
            }
            Some("startswith") if is_call => {
                self.next += 2;
                let property = self.string_property("startswith")?;
                self.expect(&TokenKind::Comma, "','")?;
                let text = self.string("a string literal")?;
                self.expect(&TokenKind::Close, "')'")?;
                self.boolean_suffix(Filter::StartsWith { property, text })
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Filter, QueryError> {
        let property = self.property()?;
        let op = match self.peek_word(0).and_then(Op::from_word) {
            Some(op) => op,
            None => {
                let found = self.peek();
                return Err(self.unexpected(found, "a comparison operator (eq ne gt ge lt le)"));
            }
        };
        self.next += 1;
        let literal = self.literal()?;
        let fits = match (property.kind, &literal) {
            (Kind::String, Literal::String(_))
            | (Kind::DateTime, Literal::DateTime(_))
            | (Kind::Decimal, Literal::Integer(_)) => true,
            (Kind::Boolean, Literal::Boolean(_)) => matches!(op, Op::Eq | Op::Ne),
            _ => false,
        };
        if !fits {
            return Err(QueryError::TypeMismatch {
                op: op.word().into(),
                left: property.kind.edm_name(),
                right: literal.edm_name(),
            });
        }
        Ok(Filter::Compare {
            property,
            op,
            literal,
        })
    }

    /// `eq true`, `eq false`, `ne true` or `ne false` after a boolean function, if present.
    fn boolean_suffix(&mut self, call: Filter) -> Result<Filter, QueryError> {
        let op = match self.peek_word(0) {
            Some("eq") => Op::Eq,
            Some("ne") => Op::Ne,
            _ => return Ok(call),
        };
        let expected = match self.peek_word(1) {
            Some("true") => true,
            Some("false") => false,
            _ => {
                let found = self.tokens.get(self.next + 1);
                return Err(self.unexpected(found, "true or false"));
            }
        };
        self.next += 2;
        Ok(if expected == (op == Op::Eq) {
            call
        } else {
            Filter::Not(Box::new(call))
        })
    }

    fn property(&mut self) -> Result<&'static Property, QueryError> {
        let Some(name) = self.peek_word(0).map(str::to_owned) else {
            let found = self.peek();
            return Err(self.unexpected(found, "a property name"));
        };
        let property = self
            .set
            .property(&name)
            .ok_or(QueryError::UnknownProperty {
                option: OPTION,
                property: name,
                type_name: self.set.type_name,
            })?;
        self.next += 1;
        Ok(property)
    }

    fn string_property(&mut self, function: &str) -> Result<&'static Property, QueryError> {
        let property = self.property()?;
        if property.kind == Kind::String {
            Ok(property)
        } else {
            Err(QueryError::TypeMismatch {
                op: function.into(),
                left: property.kind.edm_name(),
                right: Kind::String.edm_name(),
            })
        }
    }

    fn string(&mut self, what: &str) -> Result<String, QueryError> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::String(text),
                ..
            }) => {
                let text = text.clone();
                self.next += 1;
                Ok(text)
            }
            other => Err(self.unexpected(other, what)),
        }
    }

    fn literal(&mut self) -> Result<Literal, QueryError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected(None, "a literal"));
        };
        let literal = match &token.kind {
            TokenKind::String(text) => Literal::String(text.clone()),
            TokenKind::Integer(n) => Literal::Integer(*n),
            TokenKind::DateTime(text) => Literal::DateTime(datetime_literal(text, token.at)?),
            TokenKind::Word(w) if w == "true" => Literal::Boolean(true),
            TokenKind::Word(w) if w == "false" => Literal::Boolean(false),
            _ => return Err(self.unexpected(Some(token), "a literal")),
        };
        self.next += 1;
        Ok(literal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MAINTENANCE_ORDER, PRODUCTION_ORDER};
    use serde_json::json;

    fn order(status: &str, priority: &str, desc: &str) -> Entity {
        let fields = json!({
            "MaintenanceOrder": "1",
            "OrderSystemStatus": status,
            "MaintPriority": priority,
            "MaintenanceOrderDesc": desc,
            "MaintOrdBasicStartDate": "/Date(1795132800000)/",
        });
        Entity {
            fields: fields.as_object().unwrap().clone(),
            version: 0,
        }
    }

    fn parse(input: &str) -> Result<Filter, QueryError> {
        Filter::parse(input, &MAINTENANCE_ORDER)
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // a or b and c  ==  a or (b and c)
        let filter = parse(
            "OrderSystemStatus eq 'REL' or OrderSystemStatus eq 'CRTD' and MaintPriority eq '1'",
        )
        .unwrap();
        assert!(matches!(filter, Filter::Or(_, ref right) if matches!(**right, Filter::And(..))));
        assert!(filter.matches(&order("REL", "4", "")));
        assert!(!filter.matches(&order("CRTD", "4", "")));
        assert!(filter.matches(&order("CRTD", "1", "")));

        let grouped = parse(
            "(OrderSystemStatus eq 'REL' or OrderSystemStatus eq 'CRTD') and MaintPriority eq '1'",
        )
        .unwrap();
        assert!(!grouped.matches(&order("REL", "4", "")));
        assert!(grouped.matches(&order("REL", "1", "")));
    }

    #[test]
    fn not_applies_to_the_next_term_only() {
        let filter = parse("not OrderSystemStatus eq 'TECO' and MaintPriority eq '1'").unwrap();
        assert!(filter.matches(&order("REL", "1", "")));
        assert!(!filter.matches(&order("TECO", "1", "")));
        assert!(!filter.matches(&order("REL", "2", "")));
    }

    #[test]
    fn doubled_quotes_stand_for_one_quote() {
        let filter = parse("MaintenanceOrderDesc eq 'operator''s note'").unwrap();
        assert!(filter.matches(&order("REL", "1", "operator's note")));
        let search = parse("substringof('''s n',MaintenanceOrderDesc)").unwrap();
        assert!(search.matches(&order("REL", "1", "operator's note")));
        let unterminated = parse("MaintenanceOrderDesc eq 'it''s").unwrap_err();
        assert!(
            unterminated.to_string().contains("unterminated"),
            "{unterminated}"
        );
    }

    #[test]
    fn functions_take_an_optional_boolean_comparison() {
        let desc = order("REL", "1", "P-101 seal leak");
        assert!(parse("startswith(MaintenanceOrderDesc,'P-101')")
            .unwrap()
            .matches(&desc));
        assert!(parse("substringof('seal',MaintenanceOrderDesc) eq true")
            .unwrap()
            .matches(&desc));
        assert!(!parse("substringof('seal',MaintenanceOrderDesc) eq false")
            .unwrap()
            .matches(&desc));
        assert!(!parse("substringof('Seal',MaintenanceOrderDesc)")
            .unwrap()
            .matches(&desc));
    }

    #[test]
    fn datetimes_compare_with_date_properties() {
        let at = order("REL", "1", "");
        assert!(
            parse("MaintOrdBasicStartDate ge datetime'2026-11-20T00:00:00'")
                .unwrap()
                .matches(&at)
        );
        assert!(
            parse("MaintOrdBasicStartDate lt datetime'2026-11-20T00:00:00.001'")
                .unwrap()
                .matches(&at)
        );
        assert!(
            !parse("MaintOrdBasicStartDate gt datetime'2026-11-20T00:00'")
                .unwrap()
                .matches(&at)
        );
        assert!(parse("MaintOrdBasicStartDate ge datetime'2026-13-01T00:00'").is_err());
    }

    #[test]
    fn types_are_checked() {
        let err = parse("MaintPriority eq 1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operator 'eq' incompatible with operand types 'Edm.String' and 'Edm.Int32'"
        );
        assert!(parse("substringof('x',MaintOrdBasicStartDate)").is_err());
        assert!(Filter::parse("TotalQuantity ge 20000", &PRODUCTION_ORDER).is_ok());
        assert!(Filter::parse("OrderIsReleased eq true", &PRODUCTION_ORDER).is_ok());
        assert!(Filter::parse("OrderIsReleased gt false", &PRODUCTION_ORDER).is_err());
    }

    #[test]
    fn malformed_expressions_name_the_problem() {
        let unknown = parse("Plant eq '1000'").unwrap_err();
        assert!(
            matches!(unknown, QueryError::UnknownProperty { ref property, .. } if property == "Plant")
        );
        for (input, expected) in [
            ("MaintPriority eq", "found the end of the expression"),
            ("MaintPriority EQ '1'", "expected a comparison operator"),
            (
                "MaintPriority eq '1' AND MaintPriority eq '2'",
                "unexpected 'AND'",
            ),
            ("(MaintPriority eq '1'", "expected ')'"),
            ("MaintPriority eq '1' ;", "unexpected character ';'"),
            ("", "expected a property name"),
        ] {
            let err = parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!(
            "{}MaintPriority eq '1'{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(matches!(parse(&deep), Err(QueryError::TooDeep(_))));
        let nots = format!("{}MaintPriority eq '1'", "not ".repeat(MAX_DEPTH + 1));
        assert!(matches!(parse(&nots), Err(QueryError::TooDeep(_))));
        let shallow = format!(
            "{}MaintPriority eq '1'{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&shallow).is_ok());
        let long = vec!["MaintPriority eq '1'"; 400].join(" or ");
        assert!(matches!(parse(&long), Err(QueryError::TooLong(_))));
    }
}
