//! `gateway builtins`: every builtin of OPA 1.22.2's capabilities, whether the Rego engine has
//! it, and how many corpus cases exercise it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rego_runtime::capabilities;
use serde::Serialize;

use super::conformance::Format;

/// Flags of `gateway builtins`.
#[derive(Debug, Args, Clone)]
pub struct BuiltinsArgs {
    /// Where the conformance corpus is, to count the cases that use each builtin.
    #[arg(long, default_value = "conformance/cases")]
    pub corpus: PathBuf,
    /// `text` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    available: bool,
    /// `true` when the project's table implements or replaces it (see rego-runtime/src/builtins).
    in_table: bool,
    deprecated: bool,
    corpus_cases: usize,
}

/// Prints the list; exits non-zero only when the corpus cannot be read.
pub fn main(args: &BuiltinsArgs) -> ExitCode {
    let cases = match conformance::load::load(&args.corpus) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::from(2);
        }
    };
    // Case texts once: modules and query, to search for each builtin's use.
    let texts: Vec<String> = cases
        .iter()
        .map(|c| format!("{}\n{}", c.case.modules.join("\n"), c.case.query))
        .collect();
    let rows: Vec<Row<'_>> = capabilities::opa()
        .builtins
        .iter()
        .map(|builtin| {
            let call = format!("{}(", builtin.name);
            let infix = builtin.infix.as_ref().map(|op| format!(" {op} "));
            Row {
                name: &builtin.name,
                available: rego_runtime::rego::is_builtin(&builtin.name),
                in_table: rego_runtime::builtins::lookup(&builtin.name).is_some(),
                deprecated: builtin.deprecated,
                corpus_cases: texts
                    .iter()
                    .filter(|t| {
                        t.contains(&call) || infix.as_ref().is_some_and(|op| t.contains(op))
                    })
                    .count(),
            }
        })
        .collect();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Text | Format::Junit => {
            let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4);
            println!(
                "{:<width$}  {:<9}  {:<5}  {:>5}",
                "builtin", "available", "table", "cases"
            );
            for row in &rows {
                let available = if row.available { "yes" } else { "NO" };
                let table = if row.in_table { "yes" } else { "" };
                let deprecated = if row.deprecated { "  (deprecated)" } else { "" };
                println!(
                    "{:<width$}  {available:<9}  {table:<5}  {:>5}{deprecated}",
                    row.name, row.corpus_cases
                );
            }
            let missing: Vec<&str> = rows
                .iter()
                .filter(|r| !r.available)
                .map(|r| r.name)
                .collect();
            println!(
                "\n{} builtins, {} available, missing: {}",
                rows.len(),
                rows.len() - missing.len(),
                if missing.is_empty() {
                    "none".to_string()
                } else {
                    missing.join(", ")
                }
            );
        }
    }
    ExitCode::SUCCESS
}
