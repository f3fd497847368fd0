//! Compiled patterns shared by every thread. Policies match the same few patterns over and
//! over, and evaluations run on whichever thread is free (any of the server's workers), so a
//! per-thread cache would compile each pattern once per thread.
//! Entries are shared behind an `Arc` rather than cloned: a cloned `Regex` starts a pool of
//! search caches of its own, and building one costs more than a typical match.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use regex::Regex;

/// Patterns kept at most; past this the cache starts over, as a policy set that uses more
/// distinct patterns than this builds them from data and gains little from caching.
const LIMIT: usize = 256;

/// A bounded map from a pattern's key to its compiled expression.
pub(super) struct PatternCache {
    entries: LazyLock<Mutex<HashMap<String, Arc<Regex>>>>,
}

impl PatternCache {
    pub(super) const fn new() -> PatternCache {
        PatternCache {
            entries: LazyLock::new(|| Mutex::new(HashMap::new())),
        }
    }

    /// The expression cached under `key`, or `compile`'s, cached when it succeeds. Compiling
    /// happens outside the lock, so a slow pattern does not hold up other threads.
    pub(super) fn get_or_compile<E>(
        &self,
        key: &str,
        compile: impl FnOnce() -> Result<Regex, E>,
    ) -> Result<Arc<Regex>, E> {
        if let Some(found) = self.lock().get(key) {
            return Ok(found.clone());
        }
        let compiled = Arc::new(compile()?);
        let mut entries = self.lock();
        if entries.len() >= LIMIT {
            entries.clear();
        }
        entries.insert(key.to_string(), compiled.clone());
        Ok(compiled)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Regex>>> {
        // The map is always whole between statements, so a panic elsewhere leaves it usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_once_per_key_and_not_on_failure() {
        let cache = PatternCache::new();
        let compiled = std::cell::Cell::new(0);
        let compile = |pattern: &str| {
            compiled.set(compiled.get() + 1);
            Regex::new(pattern)
        };
        for _ in 0..3 {
            let found = cache.get_or_compile("a+", || compile("a+"));
            assert!(found.expect("valid").is_match("aa"));
        }
        assert_eq!(compiled.get(), 1);
        // The one expression itself, not a clone: a clone would start its own search caches.
        let first = cache.get_or_compile("a+", || compile("a+")).expect("valid");
        let second = cache.get_or_compile("a+", || compile("a+")).expect("valid");
        assert!(Arc::ptr_eq(&first, &second));
        let unclosed = String::from("(");
        assert!(
            cache
                .get_or_compile(&unclosed, || compile(&unclosed))
                .is_err()
        );
        assert!(!cache.lock().contains_key("("));
    }

    #[test]
    fn threads_share_what_one_compiled() {
        static SHARED: PatternCache = PatternCache::new();
        SHARED
            .get_or_compile("b+", || Regex::new("b+"))
            .expect("valid");
        std::thread::spawn(|| {
            let found = SHARED.get_or_compile("b+", || -> Result<Regex, String> {
                Err("compiled again on another thread".to_string())
            });
            assert!(found.expect("cached").is_match("bb"));
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn starts_over_when_full() {
        let cache = PatternCache::new();
        for i in 0..=LIMIT {
            let pattern = format!("x{i}");
            cache
                .get_or_compile(&pattern, || Regex::new(&pattern))
                .expect("valid");
        }
        assert_eq!(cache.lock().len(), 1);
    }
}
