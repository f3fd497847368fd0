//! Turns an archive or a directory into a flat list of files; knows nothing of `Bundle`.

mod archive;
mod directory;

pub use archive::read_archive;
pub use directory::read_directory;

/// Files over this size are refused, as OPA refuses them (it protects against gzip bombs).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// One file of a bundle: its path from the bundle root, always with a leading `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// `a/b.rego`, `/a/b.rego` and `./a/b.rego` all become `/a/b.rego`.
pub(crate) fn normalize(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('/') {
        if part.is_empty() || part == "." {
            continue;
        }
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths_get_one_leading_slash() {
        assert_eq!(normalize("a/b.rego"), "/a/b.rego");
        assert_eq!(normalize("/a//b.rego"), "/a/b.rego");
        assert_eq!(normalize("./data.json"), "/data.json");
    }
}
