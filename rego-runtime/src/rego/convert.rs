//! Conversions between the project's [`Value`] and regorus's value type.
//!
//! Builtins run on the project's values, so every builtin call converts its operands from
//! regorus and its result back. Policies pass the same large documents to builtins over and
//! over (`object.get(input.review.object, ...)`, per container and per rule), and both value
//! types share containers by reference, so during an evaluation a [`Memo`] remembers each
//! container converted, by address, in both directions: converting it again, or converting
//! back a part of it that a builtin returned, costs a lookup instead of a deep copy.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use regorus::Value as RegoValue;

use crate::value::{Number, Value};

/// Converts a project value into regorus's representation.
pub fn to_regorus(value: &Value) -> RegoValue {
    convert_to(value, &mut NoMemo)
}

/// Converts a regorus value back; `None` for regorus's `Undefined`.
pub fn from_regorus(value: &RegoValue) -> Option<Value> {
    convert_from(value, &mut NoMemo)
}

/// [`to_regorus`] of `value`, a later version of `earlier` whose conversion is `converted`:
/// every container the two still share is reused, so converting a data document after a few
/// writes costs the objects along the written paths and the values written, not the whole
/// document.
pub fn to_regorus_reusing(value: &Value, earlier: &Value, converted: &RegoValue) -> RegoValue {
    match (value, earlier, converted) {
        (Value::Object(now), Value::Object(before), _) if Arc::ptr_eq(now, before) => {
            converted.clone()
        }
        (Value::Object(now), Value::Object(before), RegoValue::Object(converted_before)) => {
            let entries = now
                .iter()
                .map(|(key, child)| {
                    let key_converted = to_regorus(key);
                    let child_converted =
                        match (before.get(key), converted_before.get(&key_converted)) {
                            (Some(child_before), Some(child_converted)) => {
                                to_regorus_reusing(child, child_before, child_converted)
                            }
                            _ => to_regorus(child),
                        };
                    (key_converted, child_converted)
                })
                .collect::<BTreeMap<_, _>>();
            RegoValue::from(entries)
        }
        (Value::Array(now), Value::Array(before), _) if Arc::ptr_eq(now, before) => {
            converted.clone()
        }
        (Value::Set(now), Value::Set(before), _) if Arc::ptr_eq(now, before) => converted.clone(),
        _ => to_regorus(value),
    }
}

/// [`to_regorus`] through the memo of the evaluation running on this thread, if any.
pub fn to_regorus_remembered(value: &Value) -> RegoValue {
    ACTIVE.with(|active| match &mut *active.borrow_mut() {
        Some(memo) => convert_to(value, memo),
        None => to_regorus(value),
    })
}

/// [`from_regorus`] through the memo of the evaluation running on this thread, if any.
pub fn from_regorus_remembered(value: &RegoValue) -> Option<Value> {
    ACTIVE.with(|active| match &mut *active.borrow_mut() {
        Some(memo) => convert_from(value, memo),
        None => from_regorus(value),
    })
}

/// Runs `evaluate` with a fresh memo on this thread, seeded with the memo its input was
/// converted with; the memo is dropped afterwards, so nothing outlives the evaluation.
pub fn with_memo<R>(input: Option<Arc<Memo>>, evaluate: impl FnOnce() -> R) -> R {
    let memo = ActiveMemo {
        input,
        own: Memo::default(),
    };
    /// Puts the previous memo back, also when the evaluation panics.
    struct Restore(Option<ActiveMemo>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ACTIVE.with(|active| active.replace(previous));
        }
    }
    let _restore = Restore(ACTIVE.with(|active| active.replace(Some(memo))));
    evaluate()
}

thread_local! {
    static ACTIVE: RefCell<Option<ActiveMemo>> = const { RefCell::new(None) };
}

/// Containers a memo remembers at most. It keeps every converted value alive until the
/// evaluation ends, so a policy that hands thousands of distinct documents to builtins (an
/// inventory scan) would otherwise hold copies of all of them.
const MEMO_LIMIT: usize = 16_384;

/// Containers converted in either direction, each pair kept alive (so that its addresses
/// stay unique) for as long as the memo lives. Each map owns its pairs: an entry never relies
/// on the other map to keep its key's container alive.
#[derive(Default)]
pub struct Memo {
    /// By the address of a regorus container.
    by_theirs: HashMap<usize, (RegoValue, Value)>,
    /// By the address of a project container.
    by_ours: HashMap<usize, (Value, RegoValue)>,
}

impl Memo {
    /// Converts `value` for regorus, remembering every container of it.
    pub fn convert(&mut self, value: &Value) -> RegoValue {
        convert_to(value, self)
    }
}

/// Where conversions look up and record containers.
trait Remember {
    fn ours(&self, value: &Value) -> Option<RegoValue>;
    fn theirs(&self, value: &RegoValue) -> Option<Value>;
    fn remember(&mut self, ours: &Value, theirs: &RegoValue);
}

/// Plain conversion.
struct NoMemo;

impl Remember for NoMemo {
    fn ours(&self, _: &Value) -> Option<RegoValue> {
        None
    }
    fn theirs(&self, _: &RegoValue) -> Option<Value> {
        None
    }
    fn remember(&mut self, _: &Value, _: &RegoValue) {}
}

impl Remember for Memo {
    fn ours(&self, value: &Value) -> Option<RegoValue> {
        let (_, theirs) = self.by_ours.get(&our_address(value)?)?;
        Some(theirs.clone())
    }
    fn theirs(&self, value: &RegoValue) -> Option<Value> {
        let (_, ours) = self.by_theirs.get(&their_address(value)?)?;
        Some(ours.clone())
    }
    fn remember(&mut self, ours: &Value, theirs: &RegoValue) {
        if self.by_ours.len() >= MEMO_LIMIT {
            return;
        }
        if let (Some(our_key), Some(their_key)) = (our_address(ours), their_address(theirs)) {
            self.by_theirs
                .insert(their_key, (theirs.clone(), ours.clone()));
            self.by_ours.insert(our_key, (ours.clone(), theirs.clone()));
        }
    }
}

/// An evaluation's memo: its own, over the (read-only) one of its input.
struct ActiveMemo {
    input: Option<Arc<Memo>>,
    own: Memo,
}

impl Remember for ActiveMemo {
    fn ours(&self, value: &Value) -> Option<RegoValue> {
        let input = self.input.as_ref().and_then(|memo| memo.ours(value));
        input.or_else(|| self.own.ours(value))
    }
    fn theirs(&self, value: &RegoValue) -> Option<Value> {
        let input = self.input.as_ref().and_then(|memo| memo.theirs(value));
        input.or_else(|| self.own.theirs(value))
    }
    fn remember(&mut self, ours: &Value, theirs: &RegoValue) {
        self.own.remember(ours, theirs);
    }
}

/// The address of a non-empty project container (empty ones are cheap to convert).
fn our_address(value: &Value) -> Option<usize> {
    match value {
        Value::Array(items) if !items.is_empty() => Some(Arc::as_ptr(items).addr()),
        Value::Set(items) if !items.is_empty() => Some(Arc::as_ptr(items).addr()),
        Value::Object(entries) if !entries.is_empty() => Some(Arc::as_ptr(entries).addr()),
        _ => None,
    }
}

/// The address of a non-empty regorus container.
fn their_address(value: &RegoValue) -> Option<usize> {
    match value {
        RegoValue::Array(items) if !items.is_empty() => Some(regorus::Rc::as_ptr(items).addr()),
        RegoValue::Set(items) if !items.is_empty() => Some(regorus::Rc::as_ptr(items).addr()),
        RegoValue::Object(entries) if !entries.is_empty() => {
            Some(regorus::Rc::as_ptr(entries).addr())
        }
        _ => None,
    }
}

fn convert_to(value: &Value, memo: &mut impl Remember) -> RegoValue {
    let converted = match value {
        Value::Null => return RegoValue::Null,
        Value::Bool(b) => return RegoValue::Bool(*b),
        Value::Number(n) => {
            return match n {
                Number::Int(i) => RegoValue::from(*i),
                Number::Float(f) => RegoValue::from(*f),
                // Integers beyond i128 (RSA moduli, serial numbers) stay exact as regorus
                // big ints.
                Number::Big(text) => RegoValue::from_numeric_string(text)
                    .unwrap_or_else(|_| RegoValue::from(n.as_f64())),
            };
        }
        Value::String(s) => return RegoValue::String(regorus::Rc::from(&**s)),
        _ if let Some(known) = memo.ours(value) => return known,
        Value::Array(items) => RegoValue::from(
            items
                .iter()
                .map(|item| convert_to(item, memo))
                .collect::<Vec<_>>(),
        ),
        Value::Set(items) => RegoValue::from(
            items
                .iter()
                .map(|item| convert_to(item, memo))
                .collect::<BTreeSet<_>>(),
        ),
        Value::Object(entries) => RegoValue::from(
            entries
                .iter()
                .map(|(k, v)| (convert_to(k, memo), convert_to(v, memo)))
                .collect::<BTreeMap<_, _>>(),
        ),
    };
    memo.remember(value, &converted);
    converted
}

fn convert_from(value: &RegoValue, memo: &mut impl Remember) -> Option<Value> {
    let (whole, converted) = match value {
        RegoValue::Undefined => return None,
        RegoValue::Null => return Some(Value::Null),
        RegoValue::Bool(b) => return Some(Value::Bool(*b)),
        RegoValue::Number(n) => {
            return Some(Value::Number(if let Some(i) = n.as_i128() {
                Number::Int(i)
            } else if let Some(big) = n.as_big().filter(|_| n.is_integer()) {
                Number::Big(Arc::from(big.to_string()))
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }));
        }
        RegoValue::String(s) => return Some(Value::String(Arc::from(&**s))),
        _ if let Some(known) = memo.theirs(value) => return Some(known),
        // `whole`: no `Undefined` member was dropped. A container that lost one is not the
        // same value, so converting it back must not bring the member back.
        RegoValue::Array(items) => {
            let members: Vec<Value> = items
                .iter()
                .filter_map(|item| convert_from(item, memo))
                .collect();
            (members.len() == items.len(), Value::array(members))
        }
        RegoValue::Set(items) => {
            let members: BTreeSet<Value> = items
                .iter()
                .filter_map(|item| convert_from(item, memo))
                .collect();
            (members.len() == items.len(), Value::Set(Arc::new(members)))
        }
        RegoValue::Object(entries) => {
            let members: BTreeMap<Value, Value> = entries
                .iter()
                .filter_map(|(k, v)| Some((convert_from(k, memo)?, convert_from(v, memo)?)))
                .collect();
            (
                members.len() == entries.len(),
                Value::Object(Arc::new(members)),
            )
        }
    };
    if whole {
        memo.remember(&converted, value);
    }
    Some(converted)
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

    fn object_arc(value: &Value) -> &Arc<BTreeMap<Value, Value>> {
        match value {
            Value::Object(entries) => entries,
            other => panic!("not an object: {other:?}"),
        }
    }

    fn rego_object_address(value: &RegoValue) -> usize {
        their_address(value).expect("a non-empty regorus container")
    }

    #[test]
    fn a_memo_converts_each_container_once_in_either_direction() {
        let rego =
            to_regorus(&Value::from_json(r#"{"spec":{"containers":[{"name":"a"}]}}"#).unwrap());
        let spec = rego["spec"].clone();
        with_memo(None, || {
            let first = from_regorus_remembered(&rego).expect("defined");
            let again = from_regorus_remembered(&rego).expect("defined");
            assert!(Arc::ptr_eq(object_arc(&first), object_arc(&again)));
            // A builtin answering a part of its operand gives regorus back its own container.
            let part = first.get("spec").expect("spec").clone();
            let back = to_regorus_remembered(&part);
            assert_eq!(rego_object_address(&back), rego_object_address(&spec));
            assert_eq!(back, spec);
        });
        // Outside an evaluation nothing is remembered: a fresh copy each time.
        let first = from_regorus_remembered(&rego).expect("defined");
        let again = from_regorus_remembered(&rego).expect("defined");
        assert!(!Arc::ptr_eq(object_arc(&first), object_arc(&again)));
        assert_eq!(first, again);
    }

    #[test]
    fn an_input_memo_serves_every_evaluation_of_that_input() {
        let input = Value::from_json(r#"{"review":{"object":{"kind":"Pod"}}}"#).unwrap();
        let mut memo = Memo::default();
        let rego = memo.convert(&input);
        let memo = Arc::new(memo);
        for _ in 0..2 {
            with_memo(Some(memo.clone()), || {
                let review = from_regorus_remembered(&rego["review"]).expect("defined");
                assert!(Arc::ptr_eq(
                    object_arc(&review),
                    object_arc(input.get("review").expect("review"))
                ));
            });
        }
    }

    #[test]
    fn a_container_that_lost_an_undefined_member_is_not_converted_back_to_it() {
        let rego = RegoValue::from(vec![RegoValue::Undefined, RegoValue::from(1_i64)]);
        with_memo(None, || {
            let ours = from_regorus_remembered(&rego).expect("defined");
            assert_eq!(ours, Value::array(vec![Value::int(1)]));
            let back = to_regorus_remembered(&ours);
            assert_eq!(back, RegoValue::from(vec![RegoValue::from(1_i64)]));
        });
    }

    #[test]
    fn a_later_version_reuses_what_did_not_change() {
        let earlier =
            Value::from_json(r#"{"a":{"x":[1,2],"y":{"z":true}},"b":{"c":"d"},"gone":{"e":1}}"#)
                .unwrap();
        let converted = to_regorus(&earlier);
        let mut later = earlier.clone();
        let Value::Object(top) = &mut later else {
            unreachable!()
        };
        let top = Arc::make_mut(top);
        top.remove(&Value::string("gone"));
        top.insert(
            Value::string("new"),
            Value::from_json(r#"{"f":[3]}"#).unwrap(),
        );
        let a = top.get_mut(&Value::string("a")).unwrap();
        let Value::Object(a) = a else { unreachable!() };
        Arc::make_mut(a).insert(Value::string("w"), Value::int(4));

        let reused = to_regorus_reusing(&later, &earlier, &converted);
        assert_eq!(reused, to_regorus(&later));
        // Untouched containers are the earlier conversion's own.
        assert_eq!(
            rego_object_address(&reused["b"]),
            rego_object_address(&converted["b"])
        );
        assert_eq!(
            rego_object_address(&reused["a"]["y"]),
            rego_object_address(&converted["a"]["y"])
        );
        assert_ne!(
            rego_object_address(&reused["a"]),
            rego_object_address(&converted["a"])
        );
        // The same document converts to the same container.
        let same = to_regorus_reusing(&earlier, &earlier, &converted);
        assert_eq!(rego_object_address(&same), rego_object_address(&converted));
    }

    #[test]
    fn a_full_memo_still_converts() {
        let mut memo = Memo::default();
        let items: Vec<Value> = (0..=MEMO_LIMIT as i64)
            .map(|i| Value::array(vec![Value::int(i)]))
            .collect();
        let value = Value::array(items);
        let rego = memo.convert(&value);
        assert_eq!(memo.by_ours.len(), MEMO_LIMIT);
        assert_eq!(from_regorus(&rego), Some(value));
    }
}
