//! Bundle roots: which `data` paths a bundle owns, and OPA's rules for overlap.

/// A root without leading or trailing `/`, as OPA standardizes it.
pub fn standardize(root: &str) -> String {
    root.trim_matches('/').to_string()
}

/// True when `root` is a segment-prefix of `path` (`a/b` contains `a/b/c`, not `a/bc`).
/// The empty root contains everything.
pub fn contains(root: &str, path: &str) -> bool {
    if root.is_empty() {
        return true;
    }
    let root: Vec<&str> = root.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    root.len() <= path.len() && root.iter().zip(&path).all(|(a, b)| a == b)
}

/// True when either root contains the other.
pub fn overlap(a: &str, b: &str) -> bool {
    contains(a, b) || contains(b, a)
}

/// True when some root contains `path`.
pub fn any_contains(roots: &[String], path: &str) -> bool {
    roots.iter().any(|root| contains(root, path))
}

/// Go's `%v` of a string slice: `[a b c/d]`, as OPA's messages print roots.
pub fn display(roots: &[String]) -> String {
    format!("[{}]", roots.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_by_whole_segments() {
        assert!(overlap("a/b", "a/b/c"));
        assert!(!overlap("a/b/c", "a/b/cat"));
        assert!(overlap("", "x"));
        assert!(!overlap("a", "another_root"));
    }
}
