//! Conversions between the project's [`Value`] and regorus's value type.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use regorus::Value as RegoValue;

use crate::value::{Number, Value};

/// Converts a project value into regorus's representation.
pub fn to_regorus(value: &Value) -> RegoValue {
    match value {
        Value::Null => RegoValue::Null,
        Value::Bool(b) => RegoValue::Bool(*b),
        Value::Number(n) => match n {
            Number::Int(i) => RegoValue::from(*i),
            Number::Float(f) => RegoValue::from(*f),
            // Integers beyond i128 (RSA moduli, serial numbers) stay exact as regorus big ints.
            Number::Big(text) => {
                RegoValue::from_numeric_string(text).unwrap_or_else(|_| RegoValue::from(n.as_f64()))
            }
        },
        Value::String(s) => RegoValue::String(regorus::Rc::from(&**s)),
        Value::Array(items) => RegoValue::from(items.iter().map(to_regorus).collect::<Vec<_>>()),
        Value::Set(items) => RegoValue::from(items.iter().map(to_regorus).collect::<BTreeSet<_>>()),
        Value::Object(entries) => RegoValue::from(
            entries
                .iter()
                .map(|(k, v)| (to_regorus(k), to_regorus(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// Converts a regorus value back; `None` for regorus's `Undefined`.
pub fn from_regorus(value: &RegoValue) -> Option<Value> {
    Some(match value {
        RegoValue::Undefined => return None,
        RegoValue::Null => Value::Null,
        RegoValue::Bool(b) => Value::Bool(*b),
        RegoValue::Number(n) => Value::Number(if let Some(i) = n.as_i128() {
            Number::Int(i)
        } else if let Some(big) = n.as_big().filter(|_| n.is_integer()) {
            Number::Big(Arc::from(big.to_string()))
        } else {
            Number::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        RegoValue::String(s) => Value::String(Arc::from(&**s)),
        RegoValue::Array(items) => Value::array(items.iter().filter_map(from_regorus).collect()),
        RegoValue::Set(items) => Value::set(items.iter().filter_map(from_regorus)),
        RegoValue::Object(entries) => Value::Object(Arc::new(
            entries
                .iter()
                .filter_map(|(k, v)| Some((from_regorus(k)?, from_regorus(v)?)))
                .collect(),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let value = Value::from_json(
            r#"{"a":[1,-2,3.5,"x",null,true],"b":{"c":{}},"big":18446744073709551615}"#,
        )
        .expect("json");
        let mut with_set = value.clone();
        if let Value::Object(entries) = &mut with_set {
            Arc::make_mut(entries).insert(
                Value::string("s"),
                Value::set([Value::int(2), Value::string("z")]),
            );
        }
        assert_eq!(from_regorus(&to_regorus(&with_set)), Some(with_set));
    }
}
