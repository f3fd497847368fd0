//! The memory a prepared structure is made of, as the cache lines it spans, to bring into
//! cache before it is used.
//!
//! Most webhook calls find the policies out of cache: between two calls the host's other
//! work evicts them. Walking a tree of nodes then misses on each in turn, since a node's
//! address is known only once its parent is read, and each miss is a full trip to memory.
//! Asking for all of a structure's lines at once, before the walk, lets the memory system
//! fetch them side by side.

use std::sync::Arc;

use crate::Value;

const LINE: usize = 64;

/// The cache lines of some structures, in address order; built once, prefetched often.
#[derive(Default)]
pub struct Footprint {
    lines: Box<[usize]>,
}

impl Footprint {
    /// Asks for every line to be brought into cache; returns at once.
    pub fn prefetch(&self) {
        for &line in &self.lines {
            prefetch(line);
        }
    }

    /// How many lines it spans.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether the line holding the byte at `address` is part of it.
    pub fn contains(&self, address: *const u8) -> bool {
        self.lines
            .binary_search(&(address as usize / LINE * LINE))
            .is_ok()
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code, reason = "a prefetch instruction, which cannot fault")]
fn prefetch(address: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint that never faults and reads nothing into the program, so
    // any address is sound; these are of live allocations the caller holds.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_address: usize) {}

/// Collects lines; [`FootprintBuilder::build`] sorts them and drops repeats.
#[derive(Default)]
pub struct FootprintBuilder {
    lines: Vec<usize>,
}

impl FootprintBuilder {
    pub fn build(self) -> Footprint {
        let mut lines = self.lines;
        lines.sort_unstable();
        lines.dedup();
        Footprint {
            lines: lines.into_boxed_slice(),
        }
    }

    /// The lines of `bytes` bytes from `start`.
    fn span(&mut self, start: *const u8, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let first = start as usize / LINE;
        let last = (start as usize + bytes - 1) / LINE;
        self.lines.extend((first..=last).map(|line| line * LINE));
    }

    /// The memory of one item (not what it points to).
    pub fn item<T>(&mut self, item: &T) {
        self.span((item as *const T).cast(), std::mem::size_of::<T>());
    }

    /// The memory of a slice's items (not what they point to).
    pub fn slice<T>(&mut self, items: &[T]) {
        self.span(items.as_ptr().cast(), std::mem::size_of_val(items));
    }

    pub fn str(&mut self, text: &str) {
        self.span(text.as_ptr(), text.len());
    }

    /// What an `Arc` points to, with the counts before it (a clone writes them).
    pub fn arc<T: ?Sized>(&mut self, shared: &Arc<T>) {
        let counts = 2 * std::mem::size_of::<usize>();
        let start = Arc::as_ptr(shared).cast::<u8>().wrapping_sub(counts);
        self.span(start, counts + std::mem::size_of_val(&**shared));
    }

    /// A value's heap memory: string bytes, and the slots of collections' members (the value
    /// itself lives in its parent).
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(text) => self.arc(text),
            Value::Array(items) => {
                self.arc(items);
                self.slice(items.as_slice());
                items.iter().for_each(|v| self.value(v));
            }
            Value::Object(entries) => {
                self.arc(entries);
                for (key, member) in entries.iter() {
                    self.item(key);
                    self.item(member);
                    self.value(key);
                    self.value(member);
                }
            }
            Value::Set(members) => {
                self.arc(members);
                for member in members.iter() {
                    self.item(member);
                    self.value(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_spans_its_strings_and_members() {
        let value = Value::from_json(
            r#"{"key": ["a string long enough to span more than one cache line of its own"]}"#,
        )
        .expect("json");
        let mut builder = FootprintBuilder::default();
        builder.value(&value);
        let footprint = builder.build();
        let Value::Object(object) = &value else {
            unreachable!("an object");
        };
        let (key, member) = object.iter().next().expect("one entry");
        assert!(footprint.contains((key as *const Value).cast()));
        assert!(footprint.contains((member as *const Value).cast()));
        let Value::Array(items) = member else {
            unreachable!("an array");
        };
        let Value::String(text) = &items[0] else {
            unreachable!("a string");
        };
        let bytes = text.as_bytes();
        assert!(bytes.iter().all(|b| footprint.contains(b)));
        assert!(footprint.contains(items.as_ptr().cast()));
        assert!(
            footprint.lines.windows(2).all(|w| w[0] < w[1]),
            "sorted, once each"
        );
    }

    #[test]
    fn lines_outside_are_not_contained() {
        let inside = [0u8; 256];
        let outside = [0u8; 256];
        let mut builder = FootprintBuilder::default();
        builder.slice(&inside[..]);
        let footprint = builder.build();
        assert!(inside.iter().all(|b| footprint.contains(b)));
        // The arrays may share a line at their boundary, not more.
        assert!(outside.iter().filter(|b| footprint.contains(*b)).count() < 64);
        assert!((4..=5).contains(&footprint.len()));
    }
}
