//! What each operator of a rule's `expect` means over a value: the semantics of the rule language,
//! shared by the node benchmark (`engine`) and the manifest scan.

use super::{Expect, Operator};

use crate::value::Value;

/// Applies `expect` to a value that is set. `Err` means the value cannot be compared this way
/// (a word where a number is needed): the rule is `error`, not `fail`.
pub fn holds(actual: &Value, expect: &Expect) -> Result<bool, String> {
    let expected = &expect.value;
    match expect.operator {
        Operator::Eq | Operator::Ne => {
            // `readOnlyPort: "abc"` is not "not 0": the component would refuse that value, so
            // what it runs with cannot be told.
            if matches!(expected, Value::Int(_)) && number(actual).is_none() {
                return Err(format!("{actual} is not a number"));
            }
            if matches!(expected, Value::Bool(_)) && actual.as_bool().is_none() {
                return Err(format!("{actual} is not a boolean"));
            }
            Ok(actual.equals(expected) == (expect.operator == Operator::Eq))
        }
        Operator::Set => Ok(true),
        Operator::Unset => Ok(false),
        Operator::Has => {
            let elements = actual.elements();
            Ok(expected
                .elements()
                .iter()
                .all(|wanted| elements.iter().any(|e| e.equals(wanted))))
        }
        Operator::HasAny => {
            let elements = actual.elements();
            Ok(expected
                .elements()
                .iter()
                .any(|wanted| elements.iter().any(|e| e.equals(wanted))))
        }
        Operator::Lacks => {
            let elements = actual.elements();
            Ok(!expected
                .elements()
                .iter()
                .any(|banned| elements.iter().any(|e| e.equals(banned))))
        }
        Operator::SubsetOf => {
            let allowed = expected.elements();
            Ok(actual
                .elements()
                .iter()
                .all(|element| allowed.iter().any(|a| a.equals(element))))
        }
        Operator::Gte | Operator::Lte => {
            let (Some(have), Some(limit)) = (number(actual), number(expected)) else {
                return Err(format!("{actual} is not a number"));
            };
            Ok(if expect.operator == Operator::Gte {
                have >= limit
            } else {
                have <= limit
            })
        }
        Operator::ModeAtMost => {
            let (Some(mode), Some(mask)) = (
                super::parse_mode_value(actual),
                super::parse_mode_value(expected),
            ) else {
                return Err(format!("{actual} is not a file mode"));
            };
            Ok(mode & !mask == 0)
        }
        Operator::Owner => Ok(actual.equals(expected)),
        Operator::Loopback => {
            Ok(is_loopback(&actual.to_string()) == expected.as_bool().unwrap_or(true))
        }
    }
}

/// `127.0.0.1`, `127.0.0.1:10249`, `[::1]:10249`, `::1`, `localhost:10249`: the host part is a
/// loopback address. An empty host or `0.0.0.0` binds every interface.
pub fn is_loopback(address: &str) -> bool {
    let address = address.trim();
    let host = if let Some(rest) = address.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else if address.matches(':').count() == 1 {
        address.split(':').next().unwrap_or("")
    } else {
        address
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Integers, and durations in nanoseconds, so `gte = "5m"` works on `streamingConnectionIdleTimeout`.
fn number(value: &Value) -> Option<i128> {
    value
        .as_int()
        .map(i128::from)
        .or_else(|| value.as_duration_nanos())
}

/// How the expectation reads in a report: `= y`, `has Node`, `mode <= 0600`.
pub fn describe(expect: &Expect) -> String {
    let value = &expect.value;
    match expect.operator {
        Operator::Eq => value.to_string(),
        Operator::Ne => format!("not {value}"),
        Operator::Set => "set".into(),
        Operator::Unset => "not set".into(),
        Operator::Has => format!("includes {value}"),
        Operator::HasAny => format!("includes one of {value}"),
        Operator::Lacks => format!("excludes {value}"),
        Operator::SubsetOf => format!("only {value}"),
        Operator::Gte => format!(">= {value}"),
        Operator::Lte => format!("<= {value}"),
        Operator::ModeAtMost => format!("mode {value} or stricter"),
        Operator::Owner => format!("owned by {}", value.to_string().replace('|', " or ")),
        Operator::Loopback if value.as_bool() == Some(false) => "not a loopback address".into(),
        Operator::Loopback => "a loopback address".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_read_only_port_is_undecided_not_a_warning() {
        let expect = |operator, value| Expect {
            operator,
            value,
            when_unset: None,
        };
        let zero = expect(Operator::Eq, Value::Int(0));
        assert_eq!(
            holds(&Value::str("abc"), &zero),
            Err("abc is not a number".to_string())
        );
        assert_eq!(holds(&Value::str("0"), &zero), Ok(true));
        let off = expect(Operator::Ne, Value::Bool(true));
        assert_eq!(
            holds(&Value::str("maybe"), &off),
            Err("maybe is not a boolean".to_string())
        );
        assert_eq!(holds(&Value::str("false"), &off), Ok(true));
    }

    fn expect(operator: Operator, value: Value) -> Expect {
        Expect {
            operator,
            value,
            when_unset: None,
        }
    }

    #[test]
    fn has_and_lacks_use_exact_elements() {
        let modes = Value::str("NodeX,RBAC");
        assert_eq!(
            holds(&modes, &expect(Operator::Has, Value::str("Node"))),
            Ok(false)
        );
        assert_eq!(
            holds(&modes, &expect(Operator::Has, Value::str("RBAC"))),
            Ok(true)
        );
        assert_eq!(
            holds(&modes, &expect(Operator::Lacks, Value::str("AlwaysAllow"))),
            Ok(true)
        );
    }

    #[test]
    fn has_any_needs_one_exact_element() {
        let paths = Value::List(vec![
            Value::str("/etc/kubernetes/pki"),
            Value::str("/var/run/docker.sock"),
        ]);
        let banned = |list: &[&str]| {
            expect(
                Operator::HasAny,
                Value::List(list.iter().map(|p| Value::str(*p)).collect()),
            )
        };
        assert_eq!(
            holds(&paths, &banned(&["/etc", "/var/run/docker.sock"])),
            Ok(true)
        );
        assert_eq!(holds(&paths, &banned(&["/etc", "/var/run"])), Ok(false));
    }

    #[test]
    fn subset_of_allowed_list() {
        let allowed = Value::List(vec![Value::str("A"), Value::str("B")]);
        assert_eq!(
            holds(
                &Value::str("A,B"),
                &expect(Operator::SubsetOf, allowed.clone())
            ),
            Ok(true)
        );
        assert_eq!(
            holds(&Value::str("A,C"), &expect(Operator::SubsetOf, allowed)),
            Ok(false)
        );
    }

    #[test]
    fn loopback_addresses() {
        for address in [
            "127.0.0.1:10249",
            "127.0.0.1",
            "[::1]:10249",
            "::1",
            "localhost:1",
        ] {
            assert!(is_loopback(address), "{address}");
        }
        for address in [
            "0.0.0.0:10249",
            ":10249",
            "10.0.0.1:10249",
            "",
            "[::]:10249",
        ] {
            assert!(!is_loopback(address), "{address}");
        }
    }

    #[test]
    fn numeric_comparisons_and_modes() {
        assert_eq!(
            holds(&Value::Int(5), &expect(Operator::Gte, Value::Int(3))),
            Ok(true)
        );
        assert_eq!(
            holds(&Value::str("4h"), &expect(Operator::Gte, Value::str("5m"))),
            Ok(true)
        );
        assert!(holds(&Value::str("abc"), &expect(Operator::Lte, Value::Int(3))).is_err());
        let mask = Value::str("0600");
        assert_eq!(
            holds(
                &Value::Int(0o600),
                &expect(Operator::ModeAtMost, mask.clone())
            ),
            Ok(true)
        );
        assert_eq!(
            holds(
                &Value::Int(0o400),
                &expect(Operator::ModeAtMost, mask.clone())
            ),
            Ok(true)
        );
        assert_eq!(
            holds(&Value::Int(0o640), &expect(Operator::ModeAtMost, mask)),
            Ok(false)
        );
    }
}
