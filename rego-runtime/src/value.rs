//! The Rego value model every engine and the builtin table share: JSON plus sets, ordered the
//! way OPA orders terms (`null < boolean < number < string < array < object < set`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A Rego value. Composite values are behind `Arc`, so cloning is cheap and updates copy only
/// the spine they touch (`Arc::make_mut`).
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(Arc<str>),
    Array(Arc<Vec<Value>>),
    Object(Arc<BTreeMap<Value, Value>>),
    Set(Arc<BTreeSet<Value>>),
}

/// A Rego number: integers exactly (beyond `i128` as decimal text), everything else as `f64`.
#[derive(Clone, Debug)]
pub enum Number {
    Int(i128),
    Float(f64),
    /// An integer too large for `i128`, kept as its decimal text.
    Big(Arc<str>),
}

impl Number {
    /// The value as `f64`, rounding where needed.
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Big(text) => text.parse().unwrap_or(f64::NAN),
        }
    }

    /// The value as `i64` when it is an integer in range (a float with no fraction counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => i64::try_from(*i).ok(),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            _ => None,
        }
    }

    /// True when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) | Number::Big(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(b),
            (Number::Big(a), Number::Big(b)) => compare_decimal_integers(a, b),
            (Number::Int(a), Number::Float(b)) => compare_int_float(*a, *b),
            (Number::Float(a), Number::Int(b)) => compare_int_float(*b, *a).reverse(),
            // A big integer lies beyond i128's range: its sign decides.
            (Number::Big(a), Number::Int(_)) => big_sign(a),
            (Number::Int(_), Number::Big(b)) => big_sign(b).reverse(),
            // -0.0 equals 0.0 as every other zero does.
            (Number::Float(a), Number::Float(b)) => {
                a.partial_cmp(b).unwrap_or_else(|| a.total_cmp(b))
            }
            _ => self.as_f64().total_cmp(&other.as_f64()),
        }
    }
}

/// How a big integer compares with every `i128`.
fn big_sign(text: &str) -> Ordering {
    if text.starts_with('-') {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

/// Compares an integer with a float exactly, as OPA compares numbers: through `f64`, an
/// integer beyond 2^53 could equal a float it differs from.
fn compare_int_float(int: i128, float: f64) -> Ordering {
    // i128's range is [-2^127, 2^127); every float of that range with no fraction fits.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    if float.is_nan() {
        return (int as f64).total_cmp(&float);
    }
    let whole = float.trunc();
    if whole >= LIMIT {
        return Ordering::Less;
    }
    if whole < -LIMIT {
        return Ordering::Greater;
    }
    int.cmp(&(whole as i128)).then(if float > whole {
        Ordering::Less
    } else if float < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

/// Compares two integers written in decimal (optionally negative) without parsing them.
fn compare_decimal_integers(a: &str, b: &str) -> Ordering {
    let (a_neg, a_digits) = a.strip_prefix('-').map_or((false, a), |d| (true, d));
    let (b_neg, b_digits) = b.strip_prefix('-').map_or((false, b), |d| (true, d));
    match (a_neg, b_neg) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (negative, _) => {
            let magnitude = a_digits
                .len()
                .cmp(&b_digits.len())
                .then_with(|| a_digits.cmp(b_digits));
            if negative {
                magnitude.reverse()
            } else {
                magnitude
            }
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Big(text) => f.write_str(text),
            Number::Float(x) => {
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e21 {
                    write!(f, "{}", *x as i128)
                } else {
                    // serde_json prints floats the shortest way that round-trips, as Go does.
                    f.write_str(
                        &serde_json::Number::from_f64(*x)
                            .map_or_else(|| "null".to_string(), |n| n.to_string()),
                    )
                }
            }
        }
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Number::Int(i128::from(value))
    }
}

impl From<f64> for Number {
    fn from(value: f64) -> Self {
        Number::Float(value)
    }
}

/// Objects up to this many keys are scanned by [`Value::get`] rather than searched.
const SCANNED_OBJECT_LEN: usize = 16;

impl Value {
    /// The empty object.
    pub fn empty_object() -> Value {
        Value::Object(Arc::new(BTreeMap::new()))
    }

    /// A string value.
    pub fn string(s: impl AsRef<str>) -> Value {
        Value::String(Arc::from(s.as_ref()))
    }

    /// An integer value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::from(i))
    }

    /// A float value.
    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    /// An array value.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// A set value.
    pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(Arc::new(items.into_iter().collect()))
    }

    /// An object from `(key, value)` pairs with string keys.
    pub fn object<K: AsRef<str>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| (Value::string(k), v))
                .collect(),
        ))
    }

    /// OPA's type name (`type_name` builtin, and the wording of type errors).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Set(_) => "set",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&BTreeMap<Value, Value>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The member `key` of an object with string keys.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let entries = self.as_object()?;
        if entries.len() > SCANNED_OBJECT_LEN {
            return entries.get(&Value::string(key));
        }
        scan(entries, key)
    }

    /// `self[key]` for an object, an array (a whole-number index) or a set (the member
    /// itself); `None` for anything else or a missing key.
    pub fn child(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.get(key),
            Value::Array(items) => {
                let index = key.as_number().filter(|n| n.is_integer())?.as_i64()?;
                items.get(usize::try_from(index).ok()?)
            }
            Value::Set(members) => members.get(key),
            _ => None,
        }
    }

    /// Parses JSON text into a value. Integers beyond 64 bits keep every digit, as OPA keeps
    /// them (serde_json alone would read them as floats).
    ///
    /// # Errors
    /// The parser's message when the text is not JSON.
    pub fn from_json(text: &str) -> Result<Value, serde_json::Error> {
        if has_long_digit_run(text) {
            let raw: &serde_json::value::RawValue = serde_json::from_str(text)?;
            return exact_from_raw(raw);
        }
        serde_json::from_str(text)
    }

    /// Serializes to compact JSON (sets become arrays, non-string keys their JSON text).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
            Value::Set(_) => 6,
        }
    }
}

/// True when `text` has 19 digits in a row outside its strings: a number that may not fit 64
/// bits. Digits inside strings (image digests, ids) do not count: the exact reader costs a
/// pass per level of nesting, and a Kubernetes object is full of hex digests.
fn has_long_digit_run(text: &str) -> bool {
    let mut run = 0;
    let mut in_string = false;
    let mut escaped = false;
    text.bytes().any(|b| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            return false;
        }
        in_string = b == b'"';
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 19
    })
}

/// A JSON value read member by member, so that each number is read from its own text.
fn exact_from_raw(raw: &serde_json::value::RawValue) -> Result<Value, serde_json::Error> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => {
            // A later duplicate key wins, as in the plain reader.
            let members: BTreeMap<String, &serde_json::value::RawValue> =
                serde_json::from_str(text)?;
            let mut entries = BTreeMap::new();
            for (key, member) in members {
                entries.insert(Value::String(Arc::from(key)), exact_from_raw(member)?);
            }
            Ok(Value::Object(Arc::new(entries)))
        }
        Some(b'[') => {
            let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)?;
            let items = items
                .into_iter()
                .map(exact_from_raw)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::array(items))
        }
        Some(b'-' | b'0'..=b'9') if !text.contains(['.', 'e', 'E']) => {
            Ok(Value::Number(match text.parse::<i128>() {
                Ok(i) => Number::Int(i),
                Err(_) => Number::Big(Arc::from(text)),
            }))
        }
        _ => serde_json::from_str(text),
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `entries[key]` by scanning the keys in order, which for a small object (most fields of a
/// Kubernetes object) costs less than a tree search. Scalar keys sort before strings.
fn scan<'v>(entries: &'v BTreeMap<Value, Value>, key: &str) -> Option<&'v Value> {
    for (k, v) in entries {
        match k {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(s) => match cmp_bytes(s.as_bytes(), key.as_bytes()) {
                Ordering::Less => {}
                Ordering::Equal => return Some(v),
                Ordering::Greater => return None,
            },
            Value::Array(_) | Value::Object(_) | Value::Set(_) => return None,
        }
    }
    None
}

/// Byte order, decided on the first byte where that differs: most keys compared in a search
/// differ there, and that saves a call to `memcmp`.
#[inline]
fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

impl Ord for Value {
    /// Strings against strings inline: object keys are strings, and every field lookup
    /// compares its key with several of them.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::String(a), Value::String(b)) => cmp_bytes(a.as_bytes(), b.as_bytes()),
            _ => self.cmp_any(other),
        }
    }
}

impl Value {
    /// [`Ord::cmp`] for every pair of types.
    fn cmp_any(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => cmp_bytes(a.as_bytes(), b.as_bytes()),
            // One shared allocation is equal to itself: evaluation compares a value with its
            // own copies (a container bound twice, a function argument) far more than with
            // other values.
            (Value::Array(a), Value::Array(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::Array(a), Value::Array(b)) => a.iter().cmp(b.iter()),
            (Value::Set(a), Value::Set(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::Set(a), Value::Set(b)) => a.iter().cmp(b.iter()),
            // OPA compares objects key by key, then value by value, in key order.
            (Value::Object(a), Value::Object(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Value::Object(a), Value::Object(b)) => a.iter().cmp(b.iter()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => match n {
                Number::Int(i) => match i64::try_from(*i) {
                    Ok(small) => serializer.serialize_i64(small),
                    Err(_) => serializer.serialize_i128(*i),
                },
                Number::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    serializer.serialize_i64(*f as i64)
                }
                Number::Float(f) => serializer.serialize_f64(*f),
                // Exact digits (RSA moduli, certificate serials), as OPA prints them.
                Number::Big(text) => {
                    match serde_json::value::RawValue::from_string(text.to_string()) {
                        Ok(raw) => raw.serialize(serializer),
                        Err(_) => serializer.serialize_f64(text.parse().unwrap_or(f64::NAN)),
                    }
                }
            },
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Set(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries.iter() {
                    match key {
                        Value::String(s) => map.serialize_entry(&**s, value)?,
                        // OPA's ast.JSON turns a non-string key into its JSON text.
                        other => map.serialize_entry(&other.to_json(), value)?,
                    }
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(i128::from(u))))
    }

    fn visit_i128<E: de::Error>(self, i: i128) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(i)))
    }

    fn visit_u128<E: de::Error>(self, u: u128) -> Result<Value, E> {
        Ok(Value::Number(match i128::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Big(Arc::from(u.to_string())),
        }))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::string(s))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(Arc::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            entries.insert(Value::String(Arc::from(key)), value);
        }
        Ok(Value::Object(Arc::new(entries)))
    }
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(if let Some(i) = n.as_i64() {
                Number::from(i)
            } else if let Some(u) = n.as_u64() {
                Number::Int(i128::from(u))
            } else {
                Number::Float(n.as_f64().unwrap_or(f64::NAN))
            }),
            serde_json::Value::String(s) => Value::String(Arc::from(s)),
            serde_json::Value::Array(items) => {
                Value::array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(entries) => Value::Object(Arc::new(
                entries
                    .into_iter()
                    .map(|(k, v)| (Value::String(Arc::from(k)), Value::from(v)))
                    .collect(),
            )),
        }
    }
}

impl From<&Value> for serde_json::Value {
    /// Sets become arrays and non-string keys their JSON text, as in [`Value::to_json`];
    /// integers beyond 64 bits become the nearest float (serde_json's value holds no more).
    fn from(value: &Value) -> Self {
        use serde_json::Value as Json;
        let float = |f: f64| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number);
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => match n {
                Number::Int(i) => i64::try_from(*i)
                    .map(Json::from)
                    .or_else(|_| u64::try_from(*i).map(Json::from))
                    .unwrap_or_else(|_| float(n.as_f64())),
                Number::Float(_) | Number::Big(_) => match n.as_i64().filter(|_| n.is_integer()) {
                    Some(i) if matches!(n, Number::Float(f) if f.abs() < 9.0e15) => Json::from(i),
                    _ => float(n.as_f64()),
                },
            },
            Value::String(s) => Json::String(s.to_string()),
            Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Set(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().map_or_else(|| k.to_json(), String::from),
                            Json::from(v),
                        )
                    })
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_types_as_opa_does() {
        let ordered = [
            Value::Null,
            Value::Bool(false),
            Value::int(-3),
            Value::string("a"),
            Value::array(vec![]),
            Value::empty_object(),
            Value::set([]),
        ];
        for pair in ordered.windows(2) {
            assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn strings_order_by_their_bytes() {
        let words = [
            "", "a", "ab", "abc", "b", "ba", "Z", "\u{e9}", "e\u{301}", "zz",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    Value::string(a).cmp(&Value::string(b)),
                    a.as_bytes().cmp(b.as_bytes()),
                    "{a:?} against {b:?}"
                );
            }
        }
    }

    #[test]
    fn child_indexes_objects_arrays_and_sets() {
        let object = Value::object([("a", Value::int(1)), ("b", Value::int(2))]);
        assert_eq!(object.child(&Value::string("b")), Some(&Value::int(2)));
        assert_eq!(object.child(&Value::string("c")), None);
        let array = Value::array(vec![Value::string("x"), Value::string("y")]);
        assert_eq!(array.child(&Value::int(1)), Some(&Value::string("y")));
        assert_eq!(array.child(&Value::int(2)), None);
        assert_eq!(array.child(&Value::string("1")), None);
        let set = Value::set(vec![Value::string("m")]);
        assert_eq!(set.child(&Value::string("m")), Some(&Value::string("m")));
        assert_eq!(Value::string("s").child(&Value::int(0)), None);
    }

    #[test]
    fn get_finds_string_keys_in_small_and_large_objects() {
        for len in [0, 3, SCANNED_OBJECT_LEN, SCANNED_OBJECT_LEN + 1, 100] {
            let mut entries: BTreeMap<Value, Value> = (0..len)
                .map(|i| (Value::string(format!("k{i:03}")), Value::int(i as i64)))
                .collect();
            // Keys of other types around the strings: numbers sort before, arrays after.
            entries.insert(Value::int(7), Value::string("number key"));
            entries.insert(Value::array(vec![]), Value::string("array key"));
            let object = Value::Object(Arc::new(entries));
            for i in 0..len {
                assert_eq!(object.get(&format!("k{i:03}")), Some(&Value::int(i as i64)));
            }
            for missing in ["", "k", "k0000", "z", "7"] {
                assert_eq!(object.get(missing), None, "{missing} in {len} keys");
            }
        }
        assert_eq!(Value::array(vec![]).get("a"), None);
    }

    #[test]
    fn integers_and_floats_compare_exactly() {
        let int = |i: i128| Number::Int(i);
        assert_ne!(
            int(9_007_199_254_740_993),
            Number::Float(9_007_199_254_740_992.0)
        );
        assert!(int(9_007_199_254_740_993) > Number::Float(9_007_199_254_740_992.0));
        assert_eq!(int(3), Number::Float(3.0));
        assert_eq!(int(0), Number::Float(-0.0));
        assert_eq!(Number::Float(0.0), Number::Float(-0.0));
        assert!(int(2) < Number::Float(2.5) && Number::Float(2.5) < int(3));
        assert!(int(-3) < Number::Float(-2.5) && Number::Float(-2.5) < int(-2));
        assert!(int(i128::MAX) < Number::Float(1e40));
        assert!(int(i128::MIN) > Number::Float(-1e40));
        let big = |t: &str| Number::Big(Arc::from(t));
        assert!(big("170141183460469231731687303715884105728") > int(i128::MAX));
        assert!(big("-170141183460469231731687303715884105729") < int(i128::MIN));
    }

    #[test]
    fn long_integers_keep_their_digits() {
        let text = r#"{"a": [100000000000000000000, -9223372036854775809, 1.5],
            "b": {"c": 123456789012345678901234567890123456789012, "d": "12345678901234567890"},
            "k": 1, "k": 2}"#;
        let value = Value::from_json(text).expect("json");
        assert_eq!(
            value.to_json(),
            r#"{"a":[100000000000000000000,-9223372036854775809,1.5],"b":{"c":123456789012345678901234567890123456789012,"d":"12345678901234567890"},"k":2}"#
        );
        assert!(Value::from_json("[12345678901234567890,").is_err());
    }

    #[test]
    fn only_digits_outside_strings_call_for_the_exact_reader() {
        assert!(has_long_digit_run(r#"{"a": 12345678901234567890}"#));
        assert!(has_long_digit_run(r#"["\"", 12345678901234567890]"#));
        assert!(!has_long_digit_run(r#"{"a": "12345678901234567890"}"#));
        assert!(!has_long_digit_run(
            r#"{"12345678901234567890": "\"12345678901234567890"}"#
        ));
        let digest = r#"{"imageID": "sha256:0000000000000000000000000000000000000000000000000000000000000001"}"#;
        assert!(!has_long_digit_run(digest));
        assert_eq!(
            Value::from_json(digest).expect("json").to_json(),
            digest.replace(": ", ":")
        );
    }

    #[test]
    fn integers_and_floats_compare_by_value() {
        assert_eq!(Value::int(1), Value::float(1.0));
        assert!(Value::float(1.5) < Value::int(2));
        assert_eq!(
            compare_decimal_integers("-1000000000000000000000000000000000000000", "-9"),
            Ordering::Less
        );
    }

    #[test]
    fn json_round_trip_turns_sets_into_arrays_and_keys_into_text() {
        let value = Value::Object(Arc::new(BTreeMap::from([
            (Value::int(1), Value::set([Value::int(2), Value::int(1)])),
            (Value::string("a"), Value::float(0.5)),
        ])));
        assert_eq!(value.to_json(), r#"{"1":[1,2],"a":0.5}"#);
        assert_eq!(
            Value::from_json(r#"{"a":[1,2.5,null,true]}"#)
                .expect("json")
                .to_json(),
            r#"{"a":[1,2.5,null,true]}"#
        );
    }
}
