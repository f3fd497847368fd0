//! Reuses decisions for repeated inputs: within one prepared snapshot, a deterministic policy
//! gives the same answer to the same path and input, so the answer is kept (bounded, LRU).
//!
//! Only used when no module calls a nondeterministic builtin (OPA's capability flag) or
//! `print`/`trace`, whose output must happen on every request. Sharded so that concurrent
//! requests rarely meet on one lock.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use crate::Value;

/// Builtins OPA declares nondeterministic (`opa capabilities`), plus those with side effects.
pub const NONDETERMINISTIC: [&str; 14] = [
    "http.send",
    "io.jwt.decode_verify",
    "io.jwt.encode_sign",
    "io.jwt.encode_sign_raw",
    "json.match_schema",
    "json.verify_schema",
    "net.lookup_ip_addr",
    "opa.runtime",
    "rand.intn",
    "time.now_ns",
    "uuid.rfc4122",
    "print",
    "trace",
    "test.sleep",
];

/// Inputs longer than this are evaluated every time rather than stored.
const MAX_CACHED_INPUT_BYTES: usize = 4096;
const SHARDS: usize = 16;

/// A bounded map from (path, strictness, input text) to the decision.
pub struct DecisionCache {
    shards: Vec<Mutex<LruCache<u64, Entry>>>,
}

struct Entry {
    key: Box<str>,
    decision: Option<Value>,
}

impl DecisionCache {
    /// A cache holding about `entries` decisions; `None` for zero.
    pub fn new(entries: usize) -> Option<DecisionCache> {
        let per_shard = NonZeroUsize::new(entries.div_ceil(SHARDS))?;
        Some(DecisionCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
        })
    }

    /// The key for a request, or `None` when the input is too large to keep.
    pub fn key(path: &str, strict: bool, input: &str) -> Option<String> {
        (input.len() <= MAX_CACHED_INPUT_BYTES).then(|| format!("{path}\u{0}{strict}\u{0}{input}"))
    }

    /// The stored decision for `key` (`Some(None)` is a stored undefined).
    pub fn get(&self, key: &str) -> Option<Option<Value>> {
        let (hash, shard) = self.locate(key);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        shard
            .get(&hash)
            .filter(|entry| &*entry.key == key)
            .map(|entry| entry.decision.clone())
    }

    pub fn put(&self, key: String, decision: Option<Value>) {
        let (hash, shard) = self.locate(&key);
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        shard.put(
            hash,
            Entry {
                key: key.into_boxed_str(),
                decision,
            },
        );
    }

    fn locate(&self, key: &str) -> (u64, &Mutex<LruCache<u64, Entry>>) {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let hash = hasher.finish();
        let index = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        (hash, &self.shards[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_defined_and_undefined_decisions() {
        let cache = DecisionCache::new(32).expect("cache");
        let yes = DecisionCache::key("data.a", false, r#"{"u":1}"#).expect("key");
        let no = DecisionCache::key("data.a", true, r#"{"u":1}"#).expect("key");
        assert_eq!(cache.get(&yes), None);
        cache.put(yes.clone(), Some(Value::Bool(true)));
        cache.put(no.clone(), None);
        assert_eq!(cache.get(&yes), Some(Some(Value::Bool(true))));
        assert_eq!(cache.get(&no), Some(None));
        assert!(DecisionCache::new(0).is_none());
        assert!(DecisionCache::key("p", false, &"x".repeat(5000)).is_none());
    }
}
