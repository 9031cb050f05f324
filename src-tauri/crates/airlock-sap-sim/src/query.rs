//! The query string and OData's system query options: `$filter`, `$select`, `$orderby`, `$top`,
//! `$skip`, `$inlinecount`, `$format` and `$skiptoken`, applied to one entity set with
//! server-driven paging.

use std::cmp::Ordering;
use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::data::Entity;
use crate::filter::Filter;
use crate::model::{EntitySet, Kind, Property};
use crate::odata;

/// Why a query was refused (a 400).
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueryError {
    /// A property the entity type does not have.
    #[error("Property '{property}' not found in type '{type_name}' ({option})")]
    UnknownProperty {
        option: &'static str,
        property: String,
        type_name: &'static str,
    },
    /// A malformed expression.
    #[error("Invalid {option} expression at position {position}: {problem}")]
    Syntax {
        option: &'static str,
        position: usize,
        problem: String,
    },
    /// Operands of types that cannot be compared.
    #[error("Operator '{op}' incompatible with operand types '{left}' and '{right}'")]
    TypeMismatch {
        op: String,
        left: &'static str,
        right: &'static str,
    },
    /// A `$filter` over the length limit.
    #[error("The $filter expression is longer than {0} characters")]
    TooLong(usize),
    /// A `$filter` nested over the depth limit.
    #[error("The $filter expression is nested deeper than {0} levels")]
    TooDeep(usize),
    /// A system query option with a value it cannot take.
    #[error("Invalid value '{value}' for system query option {option}: {problem}")]
    InvalidValue {
        option: &'static str,
        value: String,
        problem: &'static str,
    },
    /// A system query option this resource does not support.
    #[error("System query option '{0}' is not supported here")]
    Unsupported(String),
    /// A system query option given twice.
    #[error("System query option '{0}' is specified more than once")]
    Repeated(String),
    /// A query string that does not decode to UTF-8.
    #[error("The query string is not valid percent-encoded UTF-8")]
    Encoding,
}

/// The query string's parameters, percent-decoded (`+` also stands for a space).
pub(crate) fn parse_query_string(raw: Option<&str>) -> Result<Vec<(String, String)>, QueryError> {
    let decode = |text: &str| {
        percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| QueryError::Encoding)
    };
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The system query options in `params` (custom ones such as `sap-client` are ignored), each
/// at most once and each in `allowed`; `$format` must be `json`.
fn system_options<'p>(
    params: &'p [(String, String)],
    allowed: &[&str],
) -> Result<HashMap<&'p str, &'p str>, QueryError> {
    let mut options = HashMap::new();
    for (name, value) in params.iter().filter(|(name, _)| name.starts_with('$')) {
        if !allowed.contains(&name.as_str()) {
            return Err(QueryError::Unsupported(name.clone()));
        }
        if options.insert(name.as_str(), value.as_str()).is_some() {
            return Err(QueryError::Repeated(name.clone()));
        }
    }
    if let Some(format) = options.get("$format") {
        if *format != "json" {
            return Err(QueryError::InvalidValue {
                option: "$format",
                value: (*format).to_owned(),
                problem: "this gateway answers in JSON only",
            });
        }
    }
    Ok(options)
}

/// A `$select` list (`None` for all properties, also for `*`).
fn parse_select(
    value: Option<&str>,
    set: &EntitySet,
) -> Result<Option<Vec<&'static Property>>, QueryError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut chosen = Vec::new();
    for (index, item) in value.split(',').enumerate() {
        let name = item.trim();
        match name {
            "*" => return Ok(None),
            "" => {
                return Err(QueryError::Syntax {
                    option: "$select",
                    position: index + 1,
                    problem: "empty item in the list".into(),
                })
            }
            _ => chosen.push(property(set, "$select", name)?),
        }
    }
    Ok(Some(chosen))
}

fn property(
    set: &EntitySet,
    option: &'static str,
    name: &str,
) -> Result<&'static Property, QueryError> {
    set.property(name)
        .ok_or_else(|| QueryError::UnknownProperty {
            option,
            property: name.to_owned(),
            type_name: set.type_name,
        })
}

fn count_option(
    options: &HashMap<&str, &str>,
    option: &'static str,
) -> Result<Option<usize>, QueryError> {
    options
        .get(option)
        .map(|value| {
            value.trim().parse().map_err(|_| QueryError::InvalidValue {
                option,
                value: (*value).to_owned(),
                problem: "expected a non-negative integer",
            })
        })
        .transpose()
}

/// The `$select` of a single-entity read.
pub(crate) fn entity_select(
    params: &[(String, String)],
    set: &EntitySet,
) -> Result<Option<Vec<&'static Property>>, QueryError> {
    let options = system_options(params, &["$select", "$format"])?;
    parse_select(options.get("$select").copied(), set)
}

/// The options of a read of an entity set (or of its `$count`).
#[derive(Debug)]
pub(crate) struct CollectionQuery {
    filter: Option<Filter>,
    /// The properties to return (`None`: all).
    pub(crate) select: Option<Vec<&'static Property>>,
    orderby: Vec<(&'static Property, bool)>,
    top: Option<usize>,
    skip: usize,
    /// Whether `__count` is asked for.
    pub(crate) inline_count: bool,
    skiptoken: usize,
}

/// One page of a collection read.
#[derive(Debug)]
pub(crate) struct Page<'e> {
    /// The entities on this page.
    pub(crate) entities: Vec<&'e Entity>,
    /// How many entities pass the filter (before `$skip`/`$top`), for `__count`.
    pub(crate) count: usize,
    /// The `$skiptoken` of the next page, if any entities remain.
    pub(crate) next_skiptoken: Option<usize>,
}

impl CollectionQuery {
    /// Reads the system query options of a collection request.
    pub(crate) fn parse(
        params: &[(String, String)],
        set: &'static EntitySet,
    ) -> Result<CollectionQuery, QueryError> {
        let options = system_options(
            params,
            &[
                "$filter",
                "$select",
                "$orderby",
                "$top",
                "$skip",
                "$inlinecount",
                "$format",
                "$skiptoken",
            ],
        )?;
        let filter = options
            .get("$filter")
            .map(|text| Filter::parse(text, set))
            .transpose()?;
        let mut orderby = Vec::new();
        for item in options
            .get("$orderby")
            .map_or(Vec::new(), |v| v.split(',').collect())
        {
            let words: Vec<&str> = item.split_whitespace().collect();
            let descending = match words.as_slice() {
                [_] | [_, "asc"] => false,
                [_, "desc"] => true,
                _ => {
                    return Err(QueryError::Syntax {
                        option: "$orderby",
                        position: orderby.len() + 1,
                        problem: format!("expected 'Property [asc|desc]', found '{}'", item.trim()),
                    })
                }
            };
            orderby.push((property(set, "$orderby", words[0])?, descending));
        }
        let inline_count = match options.get("$inlinecount").copied() {
            None | Some("none") => false,
            Some("allpages") => true,
            Some(other) => {
                return Err(QueryError::InvalidValue {
                    option: "$inlinecount",
                    value: other.to_owned(),
                    problem: "expected allpages or none",
                })
            }
        };
        Ok(CollectionQuery {
            filter,
            select: parse_select(options.get("$select").copied(), set)?,
            orderby,
            top: count_option(&options, "$top")?,
            skip: count_option(&options, "$skip")?.unwrap_or_default(),
            inline_count,
            skiptoken: count_option(&options, "$skiptoken")?.unwrap_or_default(),
        })
    }

    /// Filters and sorts `entities` (stably), applies `$skip` and `$top`, and cuts the page the
    /// skip token points at, at most `page_size` long.
    pub(crate) fn page<'e>(&self, entities: &'e [Entity], page_size: usize) -> Page<'e> {
        let mut matching: Vec<&Entity> = entities
            .iter()
            .filter(|e| self.filter.as_ref().is_none_or(|f| f.matches(e)))
            .collect();
        matching.sort_by(|a, b| {
            self.orderby
                .iter()
                .map(|(property, descending)| {
                    let ordering = compare(property, a, b);
                    if *descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let count = matching.len();
        let window: Vec<&Entity> = matching
            .into_iter()
            .skip(self.skip)
            .take(self.top.unwrap_or(usize::MAX))
            .collect();
        let start = self.skiptoken.min(window.len());
        let end = start.saturating_add(page_size.max(1)).min(window.len());
        Page {
            entities: window[start..end].to_vec(),
            count,
            next_skiptoken: (end < window.len()).then_some(end),
        }
    }

    /// How many entities a read with these options returns over all pages (`$count`).
    pub(crate) fn total(&self, entities: &[Entity]) -> usize {
        let page = self.page(entities, usize::MAX);
        page.entities.len()
    }
}

/// How two entities compare on one property, by its type.
fn compare(property: &Property, a: &Entity, b: &Entity) -> Ordering {
    let (x, y) = (a.text(property.name), b.text(property.name));
    match property.kind {
        Kind::String => x.cmp(y),
        Kind::DateTime => odata::parse_date(x).cmp(&odata::parse_date(y)),
        Kind::Boolean => {
            let flag = |e: &Entity| e.fields.get(property.name).and_then(Value::as_bool);
            flag(a).cmp(&flag(b))
        }
        Kind::Decimal => {
            let number = |t: &str| t.parse::<f64>().unwrap_or_default();
            number(x).total_cmp(&number(y))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MAINTENANCE_ORDER;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_query_string_decodes_percent_and_plus() {
        let decoded =
            parse_query_string(Some("$filter=A%20eq%20'x+y'&sap-client=100&$top")).unwrap();
        assert_eq!(
            decoded,
            params(&[
                ("$filter", "A eq 'x y'"),
                ("sap-client", "100"),
                ("$top", "")
            ])
        );
        assert!(matches!(
            parse_query_string(Some("a=%FF")),
            Err(QueryError::Encoding)
        ));
    }

    #[test]
    fn options_are_checked() {
        let set = &MAINTENANCE_ORDER;
        for (pairs, expected) in [
            (vec![("$top", "ten")], "expected a non-negative integer"),
            (vec![("$skip", "-1")], "expected a non-negative integer"),
            (vec![("$format", "xml")], "JSON only"),
            (vec![("$expand", "X")], "'$expand' is not supported"),
            (vec![("$top", "1"), ("$top", "2")], "more than once"),
            (
                vec![("$orderby", "MaintPriority up")],
                "expected 'Property [asc|desc]'",
            ),
            (vec![("$select", "MaintPriority,,Equipment")], "empty item"),
            (vec![("$inlinecount", "all")], "expected allpages or none"),
        ] {
            let err = CollectionQuery::parse(&params(&pairs), set)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{pairs:?}: {err}");
        }
        let ok = params(&[("$select", "*"), ("sap-client", "100"), ("$format", "json")]);
        assert!(CollectionQuery::parse(&ok, set).unwrap().select.is_none());
    }
}
