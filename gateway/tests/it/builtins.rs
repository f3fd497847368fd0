//! `gateway builtins` through the built binary, run from a directory that is not the
//! repository: the corpus column only with `--corpus`, and only the formats it writes.

use std::process::{Command, Output};

use crate::support::repo_root;
use crate::support::tempdir::TempDir;

fn builtins(args: &[&str]) -> (Output, TempDir) {
    let elsewhere = TempDir::new("builtins-cwd");
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("builtins")
        .args(args)
        .current_dir(elsewhere.path())
        .output()
        .expect("run gateway builtins");
    (output, elsewhere)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn lists_builtins_from_any_directory_without_a_corpus() {
    let (output, _dir) = builtins(&[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    let header = text.lines().next().unwrap_or_default();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["builtin", "compiled", "regorus", "table"]
    );
    let row = |name: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("a {name} row"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("sprintf"), ["sprintf", "yes", "yes", "yes"]);
    // Compiled by the compiled evaluator itself, evaluated by regorus itself: in no table.
    assert_eq!(row("print"), ["print", "yes", "yes"]);
    assert_eq!(row("rego.parse_module"), ["rego.parse_module", "NO", "NO"]);
    assert!(text.contains("\n206 builtins, "), "{text}");
    assert!(text.lines().all(|l| l == l.trim_end()), "trailing spaces");

    let (output, _dir) = builtins(&["--format", "json"]);
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(rows.len(), 206);
    assert!(rows.iter().all(|r| r.get("corpus_cases").is_none()));
    for field in ["compiled", "regorus", "table"] {
        assert!(rows.iter().all(|r| r[field].is_boolean()), "{field}");
    }
    // Every builtin regorus alone provided before is now in the table, for both evaluators.
    let regorus_only: Vec<&str> = rows
        .iter()
        .filter(|r| r["regorus"] == true && r["compiled"] == false)
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(regorus_only, Vec::<&str>::new());
}

#[test]
fn counts_corpus_cases_only_from_the_given_corpus() {
    let corpus = repo_root().join("conformance/cases");
    let corpus = corpus.to_string_lossy();
    let (output, _dir) = builtins(&["--corpus", &corpus]);
    assert!(output.status.success());
    let text = stdout(&output);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.trim_end().ends_with("cases"), "{header}");
    let sprintf = text
        .lines()
        .find(|l| l.starts_with("sprintf "))
        .expect("a sprintf row");
    let cases: usize = sprintf
        .split_whitespace()
        .nth(4)
        .and_then(|c| c.parse().ok())
        .expect("a count");
    assert!(cases > 5, "{sprintf}");

    let (output, _dir) = builtins(&["--corpus", &corpus, "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    assert!(rows.iter().all(|r| r["corpus_cases"].is_u64()));

    // A corpus that is not there is an error, not an empty count.
    let (output, _dir) = builtins(&["--corpus", "conformance/cases"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: reading conformance/cases"),
        "{stderr}"
    );
}

#[test]
fn offers_only_the_formats_it_writes() {
    let (output, _dir) = builtins(&["--format", "junit"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid value 'junit' for '--format <FORMAT>'")
            && stderr.contains("[possible values: text, json]"),
        "{stderr}"
    );
}
