//! Typed values that rules compare: booleans, integers, durations, strings, lists.
//!
//! Comparison is by type, never by text: `0s` equals `0`, `"true"` equals `true`, and a list
//! holds an element only when one element is exactly equal (`Node` is not in `NodeX`).

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
}

impl Value {
    pub fn str(text: impl Into<String>) -> Self {
        Value::Str(text.into())
    }

    /// The value as a boolean, accepting the spellings Go's `strconv.ParseBool` accepts.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(value) => Some(*value),
            Value::Str(text) => match text.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(value) => Some(*value),
            Value::Str(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a Go duration in nanoseconds (`1h2m3s`, `500ms`, `0`), when it is one.
    pub fn as_duration_nanos(&self) -> Option<i128> {
        match self {
            Value::Int(0) => Some(0),
            Value::Str(text) => parse_go_duration(text),
            _ => None,
        }
    }

    /// The elements of a list; a scalar string is split on commas, as flags are.
    pub fn elements(&self) -> Vec<Value> {
        match self {
            Value::List(items) => items.clone(),
            Value::Str(text) if text.is_empty() => Vec::new(),
            Value::Str(text) => text
                .split(',')
                .map(|part| Value::str(part.trim()))
                .collect(),
            other => vec![other.clone()],
        }
    }

    /// Typed equality: booleans, integers and durations are compared as such when both sides
    /// can be read that way; strings otherwise.
    pub fn equals(&self, other: &Value) -> bool {
        if let (Value::List(left), Value::List(right)) = (self, other) {
            return left.len() == right.len() && left.iter().zip(right).all(|(a, b)| a.equals(b));
        }
        if (matches!(self, Value::Bool(_)) || matches!(other, Value::Bool(_)))
            && let (Some(a), Some(b)) = (self.as_bool(), other.as_bool())
        {
            return a == b;
        }
        if let (Some(a), Some(b)) = (self.as_int(), other.as_int()) {
            return a == b;
        }
        if let (Some(a), Some(b)) = (self.as_duration_nanos(), other.as_duration_nanos()) {
            return a == b;
        }
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(value) => write!(f, "{value}"),
            Value::Int(value) => write!(f, "{value}"),
            Value::Str(text) => f.write_str(text),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

impl From<&toml::Value> for Value {
    fn from(value: &toml::Value) -> Self {
        match value {
            toml::Value::Boolean(value) => Value::Bool(*value),
            toml::Value::Integer(value) => Value::Int(*value),
            toml::Value::String(text) => Value::Str(text.clone()),
            toml::Value::Float(value) => Value::Str(value.to_string()),
            toml::Value::Array(items) => Value::List(items.iter().map(Value::from).collect()),
            toml::Value::Datetime(value) => Value::Str(value.to_string()),
            toml::Value::Table(table) => Value::Str(table.to_string()),
        }
    }
}

/// Parses a Go `time.Duration` string (`300ms`, `-1.5h`, `2h45m`, `0`) into nanoseconds.
pub fn parse_go_duration(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * nanos_per_unit;
    }
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_compare_by_length_of_time() {
        assert!(Value::str("0s").equals(&Value::str("0")));
        assert!(Value::str("0s").equals(&Value::Int(0)));
        assert!(Value::str("1h").equals(&Value::str("60m")));
        assert!(Value::str("4h0m0s").equals(&Value::str("4h")));
        assert!(!Value::str("5m").equals(&Value::str("5s")));
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("2h45m30.5s"), Some(9_930_500_000_000));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration("5"), None);
    }

    #[test]
    fn booleans_compare_as_booleans() {
        assert!(Value::Bool(false).equals(&Value::str("false")));
        assert!(Value::Bool(true).equals(&Value::str("1")));
        assert!(!Value::Bool(true).equals(&Value::str("yes")));
    }

    #[test]
    fn integers_and_strings() {
        assert!(Value::Int(10255).equals(&Value::str("10255")));
        assert!(!Value::str("Node").equals(&Value::str("NodeX")));
        assert!(Value::str("y").equals(&Value::str("y")));
    }

    #[test]
    fn comma_strings_split_into_exact_elements() {
        let elements = Value::str("Node,RBAC").elements();
        assert!(elements.iter().any(|e| e.equals(&Value::str("Node"))));
        assert!(
            !Value::str("NodeX,RBAC")
                .elements()
                .iter()
                .any(|e| e.equals(&Value::str("Node")))
        );
    }
}
