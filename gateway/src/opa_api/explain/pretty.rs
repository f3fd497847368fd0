//! The lines of a pretty explanation, as OPA's `topdown.PrettyTraceWithLocation` writes them:
//! a location column (`file:row`, `query:row` for the query itself), then each event
//! indented by how deep its query is.

use std::collections::HashMap;

use rego_runtime::{TraceEvent, TraceNode, TraceOp};

/// The query a trace starts in, as its first pretty line shows it.
pub struct TopQuery {
    pub text: String,
    pub row: u32,
}

impl TopQuery {
    /// A data path's query: OPA evaluates `data.a.b = _`, written on row 1.
    pub fn data(reference: &str) -> TopQuery {
        TopQuery {
            text: format!("{reference} = _"),
            row: 1,
        }
    }

    /// An ad-hoc query on the row of its first expression. OPA writes the query as it
    /// compiled it: a lone reference `r` as `r = _`, `x := r` as `x = r`; others are written
    /// as given.
    pub fn adhoc(text: &str) -> TopQuery {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
            .peekable();
        let row = lines.peek().map_or(1, |(i, _)| *i as u32 + 1);
        let text = lines.map(|(_, line)| line).collect::<Vec<_>>().join("; ");
        let text = if let Some(reference) = ground_ref(&text) {
            format!("{reference} = _")
        } else {
            match text.split_once(":=") {
                Some((name, value)) if is_name(name.trim()) => match ground_ref(value.trim()) {
                    Some(reference) => format!("{} = {reference}", name.trim()),
                    None => text,
                },
                _ => text,
            }
        };
        TopQuery { text, row }
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A reference into a root document by constant keys only (`data.a.b`, `input["x"][0]`),
/// written as OPA writes refs (`data["a"]` is `data.a`); `None` for anything else.
fn ground_ref(text: &str) -> Option<String> {
    let root_end = text.find(['.', '[']).unwrap_or(text.len());
    let root = &text[..root_end];
    if !matches!(root, "data" | "input") {
        return None;
    }
    let mut written = root.to_string();
    let push_key = |written: &mut String, key: &str| {
        if is_name(key) {
            written.push('.');
            written.push_str(key);
        } else {
            written.push('[');
            written.push_str(&serde_json::to_string(key).unwrap_or_default());
            written.push(']');
        }
    };
    let mut rest = &text[root_end..];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if !is_name(&after[..end]) {
                return None;
            }
            push_key(&mut written, &after[..end]);
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let key = &after[..end];
            let inner = key.strip_prefix('"').and_then(|k| k.strip_suffix('"'));
            match inner {
                Some(inner) if !inner.contains(['"', '\\']) => push_key(&mut written, inner),
                None if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) => {
                    written.push('[');
                    written.push_str(key);
                    written.push(']');
                }
                _ => return None,
            }
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(written)
}

/// OPA's minimum location width (`len("query")`) and the width past which file names are
/// shortened.
const MIN_LOCATION_WIDTH: usize = 5;
const MAX_IDEAL_LOCATION_WIDTH: usize = 64;
/// Spaces after the location column, besides the one separating the columns.
const COLUMN_PADDING: usize = 4;

/// `PrettyTraceWithLocation`'s lines: a location column, then the event indented by depth.
pub fn lines(events: &[&TraceEvent], top: &TopQuery) -> Vec<String> {
    let place = |event: &TraceEvent| -> Option<(String, u32)> {
        match (&event.node, &event.location) {
            (TraceNode::Query, _) => Some((String::new(), top.row)),
            (_, Some(location)) => Some((location.file.clone(), location.row)),
            (_, None) => None,
        }
    };
    let aliases = shortened_file_names(events.iter().filter_map(|e| place(e)));
    let mut depths: HashMap<u64, usize> = HashMap::new();
    let rows: Vec<(String, String)> = events
        .iter()
        .map(|event| {
            let depth = match depths.get(&event.query_id) {
                Some(depth) if *depth > 0 => *depth,
                _ => {
                    let depth = depths.get(&event.parent_id).copied().unwrap_or(0) + 1;
                    depths.insert(event.query_id, depth);
                    depth
                }
            };
            let location = match place(event) {
                None => String::new(),
                Some((file, row)) if file.is_empty() => format!("query:{row}"),
                Some((file, row)) => format!("{}:{row}", aliases.get(&file).unwrap_or(&file)),
            };
            (location, describe(event, depth, top))
        })
        .collect();
    let width = rows
        .iter()
        .map(|(location, _)| location.chars().count())
        .max()
        .unwrap_or(0)
        + COLUMN_PADDING;
    let lines: Vec<String> = rows
        .into_iter()
        .map(|(location, event)| format!("{location:<width$} {event}"))
        .collect();
    // OPA splits the printed table on newlines: no rows is one empty line.
    if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    }
}

/// The event column: `| ` per level below the top, then the operation and what it is on.
fn describe(event: &TraceEvent, depth: usize, top: &TopQuery) -> String {
    let spaces = match event.op {
        TraceOp::Enter | TraceOp::Redo => depth,
        TraceOp::Note => depth + 1,
    };
    let padding = "| ".repeat(spaces.saturating_sub(1));
    let op = match event.op {
        TraceOp::Enter => "Enter",
        TraceOp::Redo => "Redo",
        TraceOp::Note => "Note",
    };
    match &event.node {
        // OPA 1.22 quotes the message without escaping anything in it.
        TraceNode::Note => format!("{padding}{op} \"{}\"", event.message),
        TraceNode::Query => format!("{padding}{op} {}", top.text),
        TraceNode::Rule(path) => format!("{padding}{op} {path}"),
    }
}

/// OPA's `getShortenedFileNames`: when a location would be wider than 64 characters, the
/// longest middle part the file names share becomes `...`.
fn shortened_file_names(places: impl Iterator<Item = (String, u32)>) -> HashMap<String, String> {
    let mut files: Vec<String> = Vec::new();
    let mut longest = 0;
    for (file, row) in places {
        let digits = row.max(1).ilog10() as usize + 1;
        if file.is_empty() {
            longest = longest.max(MIN_LOCATION_WIDTH + digits + 1);
            continue;
        }
        longest = longest.max(file.len() + digits + 1);
        if !files.contains(&file) {
            files.push(file);
        }
    }
    let mut aliases: HashMap<String, String> = HashMap::new();
    if files.is_empty() || longest <= MAX_IDEAL_LOCATION_WIDTH {
        return aliases;
    }
    let parents: Vec<String> = files.iter().map(|f| below_first_directory(f)).collect();
    let mut common = if parents.len() > 1 {
        longest_common_substring(&parents)
    } else {
        parents[0].clone()
    };
    let room = MAX_IDEAL_LOCATION_WIDTH as isize - (longest as isize - common.len() as isize + 3);
    if room > 0 {
        let room = room as usize;
        if room > common.len() {
            common.clear();
        } else {
            common.truncate(common.len() - room);
        }
    }
    if common.len() > 3 {
        for file in files {
            let alias = file.replacen(&common, "...", 1);
            aliases.insert(file, alias);
        }
    }
    aliases
}

/// OPA's `getPathFromFirstSeparator`: a file's directory without its first component.
fn below_first_directory(file: &str) -> String {
    let directory = match file.rfind('/') {
        None => ".",
        Some(0) => "/",
        Some(i) => &file[..i],
    };
    let directory = directory.strip_prefix('/').unwrap_or(directory);
    match directory.find('/') {
        Some(i) if i > 0 => directory[i + 1..].to_string(),
        _ => directory.to_string(),
    }
}

/// The longest string all of `texts` contain (the leftmost in the first when several are).
fn longest_common_substring(texts: &[String]) -> String {
    let Some((first, others)) = texts.split_first() else {
        return String::new();
    };
    let bytes = first.as_bytes();
    for length in (1..=bytes.len()).rev() {
        for start in 0..=bytes.len() - length {
            let Some(candidate) = first.get(start..start + length) else {
                continue;
            };
            if others.iter().all(|other| other.contains(candidate)) {
                return candidate.to_string();
            }
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    // As OPA 1.22.2 shortened this file's name in `explain=notes&pretty`.
    #[test]
    fn long_file_names_are_shortened() {
        let file =
            "/tmp/apiw/long/very/long/directory/name/that/goes/on/and/on/policies/authz.rego";
        let aliases =
            shortened_file_names([(file.to_string(), 3), (file.to_string(), 4)].into_iter());
        assert_eq!(
            aliases[file],
            "/tmp/...directory/name/that/goes/on/and/on/policies/authz.rego"
        );
        // Nothing in common with a short name: nothing shortened.
        let aliases = shortened_file_names(
            [(file.to_string(), 3), ("long2/x/q.rego".to_string(), 3)].into_iter(),
        );
        assert!(aliases.is_empty());
    }

    #[test]
    fn adhoc_queries_read_as_opa_compiles_the_simple_ones() {
        let text = |query: &str| TopQuery::adhoc(query).text;
        assert_eq!(text("data.a.b"), "data.a.b = _");
        assert_eq!(text(r#"input["x y"][0]"#), r#"input["x y"][0] = _"#);
        assert_eq!(text(r#"data["a"].b"#), "data.a.b = _");
        assert_eq!(text("x := data.a"), "x = data.a");
        assert_eq!(text("data.a[x]"), "data.a[x]");
        assert_eq!(text("f(1)"), "f(1)");
        assert_eq!(TopQuery::adhoc("\n# c\n  data.a\n").row, 3);
    }
}
