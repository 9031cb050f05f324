//! OData v2 query options built from typed values: field names come from our code, values are
//! quoted and escaped here, and the whole query string is percent-encoded. Nothing a model
//! writes is ever pasted into a URL as it is.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::PrimitiveDateTime;

/// Everything but RFC 3986 unreserved characters is percent-encoded (a space is `%20`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value in a `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string, quoted with `'` (an inner `'` is doubled).
    Text(String),
    /// An integer.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// `datetime'2026-11-20T00:00:00'`.
    DateTime(PrimitiveDateTime),
}

impl Literal {
    fn render(&self, out: &mut String) {
        match self {
            Self::Text(text) => {
                out.push('\'');
                out.push_str(&text.replace('\'', "''"));
                out.push('\'');
            }
            Self::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Self::Bool(value) => {
                let _ = write!(out, "{value}");
            }
            Self::DateTime(at) => {
                let _ = write!(
                    out,
                    "datetime'{:04}-{:02}-{:02}T{:02}:{:02}:{:02}'",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second()
                );
            }
        }
    }
}

impl From<&str> for Literal {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl Op {
    fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `field op value`.
    Compare {
        /// The property, named by our code.
        field: &'static str,
        /// The operator.
        op: Op,
        /// The value.
        value: Literal,
    },
    /// Every one of these holds.
    And(Vec<Filter>),
    /// At least one of these holds.
    Or(Vec<Filter>),
}

impl Filter {
    /// `field eq value`.
    pub fn eq(field: &'static str, value: impl Into<Literal>) -> Self {
        Self::Compare {
            field,
            op: Op::Eq,
            value: value.into(),
        }
    }

    /// `field op value`.
    pub fn compare(field: &'static str, op: Op, value: impl Into<Literal>) -> Self {
        Self::Compare {
            field,
            op,
            value: value.into(),
        }
    }

    /// The expression in OData syntax (not yet percent-encoded).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, false);
        out
    }

    fn render_into(&self, out: &mut String, nested: bool) {
        match self {
            Self::Compare { field, op, value } => {
                out.push_str(field);
                out.push(' ');
                out.push_str(op.keyword());
                out.push(' ');
                value.render(out);
            }
            Self::And(parts) | Self::Or(parts) => {
                let joiner = if matches!(self, Self::And(_)) {
                    " and "
                } else {
                    " or "
                };
                let wrap = nested && parts.len() > 1;
                if wrap {
                    out.push('(');
                }
                for (index, part) in parts.iter().enumerate() {
                    if index > 0 {
                        out.push_str(joiner);
                    }
                    part.render_into(out, true);
                }
                if wrap {
                    out.push(')');
                }
            }
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// The query options of one collection read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// `$filter`.
    pub filter: Option<Filter>,
    /// `$select`: the fields to return (all when empty).
    pub select: Vec<&'static str>,
    /// `$orderby`.
    pub order_by: Vec<(&'static str, Order)>,
    /// `$top`: most entities returned in all.
    pub top: Option<u32>,
}

impl Query {
    /// The percent-encoded query string, with `sap-client` when given and `$format=json`.
    #[must_use]
    pub fn to_query_string(&self, client: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push(("$filter", filter.render()));
        }
        if !self.select.is_empty() {
            pairs.push(("$select", self.select.join(",")));
        }
        if !self.order_by.is_empty() {
            let order = self
                .order_by
                .iter()
                .map(|(field, order)| match order {
                    Order::Asc => format!("{field} asc"),
                    Order::Desc => format!("{field} desc"),
                })
                .collect::<Vec<_>>()
                .join(",");
            pairs.push(("$orderby", order));
        }
        if let Some(top) = self.top {
            pairs.push(("$top", top.to_string()));
        }
        pairs.push(("$format", "json".to_owned()));
        if let Some(client) = client {
            pairs.push(("sap-client", client.to_owned()));
        }
        pairs
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// `value` percent-encoded for a query string or a key predicate.
#[must_use]
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_in_values_are_doubled_and_the_query_is_percent_encoded() {
        let query = Query {
            filter: Some(Filter::And(vec![
                Filter::eq("Equipment", "P-101' or 1 eq 1"),
                Filter::Or(vec![
                    Filter::eq("OrderSystemStatus", "CRTD"),
                    Filter::eq("OrderSystemStatus", "REL"),
                ]),
            ])),
            select: vec!["MaintenanceOrder", "Equipment"],
            order_by: vec![("MaintPriority", Order::Asc)],
            top: Some(20),
        };
        let filter = query.filter.as_ref().unwrap().render();
        assert_eq!(
            filter,
            "Equipment eq 'P-101'' or 1 eq 1' and (OrderSystemStatus eq 'CRTD' or OrderSystemStatus eq 'REL')"
        );
        let encoded = query.to_query_string(Some("100"));
        assert!(
            encoded.starts_with("$filter=Equipment%20eq%20%27P-101%27%27%20or"),
            "{encoded}"
        );
        assert!(
            encoded.contains("&$select=MaintenanceOrder%2CEquipment&"),
            "{encoded}"
        );
        assert!(
            encoded.contains("&$orderby=MaintPriority%20asc&$top=20&$format=json&sap-client=100"),
            "{encoded}"
        );
        assert!(
            !encoded.contains(' ') && !encoded.contains('\''),
            "{encoded}"
        );
    }

    #[test]
    fn datetimes_render_as_odata_v2_literals() {
        let at = PrimitiveDateTime::new(
            time::Date::from_calendar_date(2026, time::Month::November, 16).unwrap(),
            time::Time::from_hms(6, 5, 0).unwrap(),
        );
        let filter = Filter::compare("MaintOrdBasicStartDate", Op::Ge, Literal::DateTime(at));
        assert_eq!(
            filter.render(),
            "MaintOrdBasicStartDate ge datetime'2026-11-16T06:05:00'"
        );
    }
}
