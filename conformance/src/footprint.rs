//! The parts of the data tree a case touches: the first segment of every `data` path its
//! query, modules and data name (its roots), and whether it reads `data` as a whole. A shared
//! server can run a case only where none of these is already taken.
//!
//! The scan is textual and errs towards more roots: a root named only in a comment is
//! counted, a `data` whose path cannot be read statically counts as reading everything.

use std::collections::BTreeSet;

use crate::case::TestCase;

/// What one case reads or writes in `data`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// First path segments, `test` for `data.test.p` or `package test.q`.
    pub roots: BTreeSet<String>,
    /// The case reads `data` itself (`x = data`, `data[k]`, `import data`).
    pub whole: bool,
}

impl Footprint {
    /// The footprint of `case`: its query, its modules' packages and refs, its data's keys.
    pub fn of(case: &TestCase) -> Footprint {
        let mut footprint = Footprint::default();
        footprint.scan(&case.query);
        for module in &case.modules {
            footprint.scan(module);
        }
        if let Some(serde_json::Value::Object(data)) = &case.data {
            footprint.roots.extend(data.keys().cloned());
        }
        footprint
    }

    /// Adds the roots Rego `text` names.
    fn scan(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let mut after_dot = false;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '#' => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '"' | '`' => {
                    i = skip_string(&chars, i);
                    after_dot = false;
                }
                c if is_ident_start(c) => {
                    let start = i;
                    while i < chars.len() && is_ident(chars[i]) {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    // `input.data` is a field, not the data root.
                    if !after_dot {
                        match word.as_str() {
                            "data" => self.note(path_root(&chars, i)),
                            "package" => self.note(path_root_after_package(&chars, i)),
                            _ => {}
                        }
                    }
                    after_dot = false;
                }
                c if c.is_whitespace() => i += 1,
                _ => {
                    after_dot = c == '.';
                    i += 1;
                }
            }
        }
    }

    fn note(&mut self, root: Option<String>) {
        match root {
            Some(root) => {
                self.roots.insert(root);
            }
            None => self.whole = true,
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The index just past the string literal opening at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() && chars[i] != quote {
        if quote == '"' && chars[i] == '\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() && chars[i] != '\n' {
        i += 1;
    }
    i
}

/// The first segment of the ref continuing at `i` after `data`: `.name` or `["name"]`;
/// `None` when there is none or it is not a constant.
fn path_root(chars: &[char], i: usize) -> Option<String> {
    let i = skip_spaces(chars, i);
    match chars.get(i)? {
        '.' => identifier(chars, skip_spaces(chars, i + 1)),
        '[' => {
            let open = skip_spaces(chars, i + 1);
            if chars.get(open) != Some(&'"') {
                return None;
            }
            let close = skip_string(chars, open) - 1;
            let inner: String = chars.get(open + 1..close)?.iter().collect();
            let after = skip_spaces(chars, close + 1);
            (!inner.contains('\\') && chars.get(after) == Some(&']')).then_some(inner)
        }
        _ => None,
    }
}

/// The first segment of a package path: `package a.b` is `a`.
fn path_root_after_package(chars: &[char], i: usize) -> Option<String> {
    identifier(chars, skip_spaces(chars, i))
}

fn identifier(chars: &[char], i: usize) -> Option<String> {
    if !chars.get(i).copied().is_some_and(is_ident_start) {
        return None;
    }
    let end = (i..chars.len())
        .find(|&j| !is_ident(chars[j]))
        .unwrap_or(chars.len());
    Some(chars[i..end].iter().collect())
}

/// The first segment of the package `source` declares, if it declares one the scan reads.
pub fn package_root(source: &str) -> Option<String> {
    let mut footprint = Footprint::default();
    let package = source
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .find(|line| line.starts_with("package"))?;
    footprint.scan(package);
    footprint.roots.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::{Footprint, package_root};

    fn scan(text: &str) -> Footprint {
        let mut footprint = Footprint::default();
        footprint.scan(text);
        footprint
    }

    fn roots(text: &str) -> Vec<String> {
        scan(text).roots.into_iter().collect()
    }

    #[test]
    fn names_the_roots_of_refs_packages_and_imports() {
        assert_eq!(roots("data.test.p = x"), ["test"]);
        assert_eq!(
            roots("package a.b\nimport data.lib.util\np if data[\"c d\"].e"),
            ["a", "c d", "lib"]
        );
        assert_eq!(roots("x := data . spaced"), ["spaced"]);
        assert!(!scan("data.test.p = x").whole);
    }

    #[test]
    fn a_data_path_it_cannot_read_counts_as_all_of_data() {
        assert!(scan("x = data").whole);
        assert!(scan("data[k] = v").whole);
        assert!(scan("package p\nimport data\n").whole);
        assert!(scan("walk(data, x)").whole);
    }

    #[test]
    fn passes_over_fields_strings_and_comments() {
        assert!(roots("input.data.x = y").is_empty());
        assert!(!scan("x := \"data\"").whole);
        assert!(!scan("x := `data`").whole);
        assert!(!scan("# reads data\nx := 1").whole);
        assert!(roots("my_data.x = y").is_empty());
    }

    #[test]
    fn reads_a_policy_package() {
        assert_eq!(
            package_root("# c\npackage examples.rbac\n").as_deref(),
            Some("examples")
        );
        assert_eq!(package_root("x := 1"), None);
    }
}
