//! `gateway builtins`: every builtin of OPA 1.22.2's capabilities, which of the Rego engine's
//! evaluators provide it (the compiled evaluator, regorus) and whether the builtin table
//! implements it, and, given a corpus, how many of its cases exercise it.

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
    /// The compiled evaluator evaluates it (natively or through the table); a policy calling
    /// a builtin it lacks is left to regorus.
    compiled: bool,
    /// regorus evaluates it (its own, or the table's installed into it).
    regorus: bool,
    /// The project's table implements it (see rego-runtime/src/builtins), for every engine.
    table: bool,
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
                compiled: rego_runtime::rego::is_compiled_builtin(&builtin.name),
                regorus: rego_runtime::rego::is_builtin(&builtin.name),
                table: rego_runtime::builtins::lookup(&builtin.name).is_some(),
                deprecated: builtin.deprecated,
                corpus_cases: texts.map(|texts| texts.iter().filter(uses).count()),
            }
        })
        .collect()
}

impl Row<'_> {
    /// Whether some evaluator of the Rego engine has it.
    fn available(&self) -> bool {
        self.compiled || self.regorus
    }
}

/// A table (with a `cases` column when a corpus was given) and a summary line.
fn text(rows: &[Row<'_>]) -> String {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let with_cases = rows.iter().any(|r| r.corpus_cases.is_some());
    let mut out = format!(
        "{:<width$}  {:<8}  {:<7}  {:<5}",
        "builtin", "compiled", "regorus", "table"
    );
    if with_cases {
        out.push_str(&format!("  {:>5}", "cases"));
    }
    out.push('\n');
    let yes = |on: bool| if on { "yes" } else { "NO" };
    for row in rows {
        let table = if row.table { "yes" } else { "" };
        let mut line = format!(
            "{:<width$}  {:<8}  {:<7}  {table:<5}",
            row.name,
            yes(row.compiled),
            yes(row.regorus)
        );
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
        .filter(|r| !r.available())
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
