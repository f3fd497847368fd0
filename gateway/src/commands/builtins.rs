//! `gateway builtins`: every builtin of OPA 1.22.2's capabilities, whether the Rego engine has
//! it, and, given a corpus, how many of its cases exercise it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use rego_runtime::capabilities;
use serde::Serialize;

/// Flags of `gateway builtins`.
#[derive(Debug, Args, Clone)]
pub struct BuiltinsArgs {
    /// A directory (or file) of OPA test cases, such as the repository's conformance/cases:
    /// adds how many of its cases use each builtin.
    #[arg(long, value_name = "PATH")]
    pub corpus: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What `gateway builtins` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    available: bool,
    /// `true` when the project's table implements or replaces it (see rego-runtime/src/builtins).
    in_table: bool,
    deprecated: bool,
    /// Present only with `--corpus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    corpus_cases: Option<usize>,
}

/// Prints the list; exits 2 when the corpus cannot be read or stdout cannot be written.
pub fn main(args: &BuiltinsArgs) -> ExitCode {
    let texts = match &args.corpus {
        Some(path) => match case_texts(path) {
            Ok(texts) => Some(texts),
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let rows = rows(texts.as_deref());
    let report = match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Text => text(&rows),
    };
    match crate::stdout::print(&report) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: writing to stdout: {error}");
            ExitCode::from(2)
        }
    }
}

/// Each case's modules and query, to search for each builtin's use.
fn case_texts(corpus: &std::path::Path) -> anyhow::Result<Vec<String>> {
    Ok(conformance::load::load(corpus)?
        .iter()
        .map(|c| format!("{}\n{}", c.case.modules.join("\n"), c.case.query))
        .collect())
}

fn rows(texts: Option<&[String]>) -> Vec<Row<'static>> {
    capabilities::opa()
        .builtins
        .iter()
        .map(|builtin| {
            let call = format!("{}(", builtin.name);
            let infix = builtin.infix.as_ref().map(|op| format!(" {op} "));
            let uses =
                |t: &&String| t.contains(&call) || infix.as_ref().is_some_and(|op| t.contains(op));
            Row {
                name: &builtin.name,
                available: rego_runtime::rego::is_builtin(&builtin.name),
                in_table: rego_runtime::builtins::lookup(&builtin.name).is_some(),
                deprecated: builtin.deprecated,
                corpus_cases: texts.map(|texts| texts.iter().filter(uses).count()),
            }
        })
        .collect()
}

/// A table (with a `cases` column when a corpus was given) and a summary line.
fn text(rows: &[Row<'_>]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let with_cases = rows.iter().any(|r| r.corpus_cases.is_some());
    let mut out = format!("{:<width$}  {:<9}  {:<5}", "builtin", "available", "table");
    if with_cases {
        out.push_str(&format!("  {:>5}", "cases"));
    }
    out.push('\n');
    for row in rows {
        let available = if row.available { "yes" } else { "NO" };
        let table = if row.in_table { "yes" } else { "" };
        let mut line = format!("{:<width$}  {available:<9}  {table:<5}", row.name);
        if let Some(cases) = row.corpus_cases {
            line.push_str(&format!("  {cases:>5}"));
        }
        if row.deprecated {
            line.push_str("  (deprecated)");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let missing: Vec<&str> = rows
        .iter()
        .filter(|r| !r.available)
        .map(|r| r.name)
        .collect();
    out.push_str(&format!(
        "\n{} builtins, {} available, missing: {}\n",
        rows.len(),
        rows.len() - missing.len(),
        if missing.is_empty() {
            "none".to_string()
        } else {
            missing.join(", ")
        }
    ));
    out
}
