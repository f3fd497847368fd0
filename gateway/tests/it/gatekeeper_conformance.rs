//! The Gatekeeper corpus (`conformance/gatekeeper/`) through the built `gateway` binary:
//! `gateway verify` over every suite, case by case against real `gator verify`, and
//! `gateway test` against real `gator test` (and its recorded output). Disagreements are
//! allowed only where `conformance/gatekeeper/known-failures.yaml` lists them with a reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

use crate::support::tempdir::TempDir;
use crate::support::{repo_root, require_gator};

const CORPUS: &str = "./conformance/gatekeeper/...";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KnownFailures {
    verify: Vec<KnownCase>,
    gator_test: Vec<KnownConstraint>,
}

#[derive(Deserialize)]
struct KnownCase {
    case: String,
    #[expect(dead_code, reason = "documentation for readers of the file")]
    reason: String,
}

#[derive(Deserialize)]
struct KnownConstraint {
    constraint: String,
    #[expect(dead_code, reason = "documentation for readers of the file")]
    reason: String,
}

fn known_failures() -> KnownFailures {
    let path = repo_root().join("conformance/gatekeeper/known-failures.yaml");
    let text = std::fs::read_to_string(&path).expect("known-failures.yaml");
    yaml_serde::from_str(&text).expect("known-failures.yaml parses")
}

fn run(binary: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(binary)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", binary.display()))
}

fn gateway() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gateway"))
}

/// Case outcomes from `verify -v` output: `<suite dir>/<test>/<case>` (or `<suite>/<test>`
/// for tests without cases) to passed. Suites print after their tests, so entries wait for
/// their suite's `ok`/`FAIL` line.
fn outcomes(stdout: &str) -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut test = String::new();
    let mut test_has_cases = false;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("=== RUN   ") {
            test = name.to_string();
            test_has_cases = false;
        } else if let Some(rest) = line.strip_prefix("    --- PASS: ") {
            test_has_cases = true;
            pending.push((format!("{test}/{}", field(rest)), true));
        } else if let Some(rest) = line.strip_prefix("    --- FAIL: ") {
            test_has_cases = true;
            pending.push((format!("{test}/{}", field(rest)), false));
        } else if let Some(rest) = line.strip_prefix("--- PASS: ") {
            if !test_has_cases {
                pending.push((field(rest).to_string(), true));
            }
        } else if let Some(rest) = line.strip_prefix("--- FAIL: ") {
            if !test_has_cases {
                pending.push((field(rest).to_string(), false));
            }
        } else if let Some(path) = line
            .strip_prefix("ok\t")
            .or_else(|| line.strip_prefix("FAIL\t"))
        {
            let suite = Path::new(field(path))
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for (id, passed) in pending.drain(..) {
                out.insert(format!("{suite}/{id}"), passed);
            }
        }
    }
    out
}

fn field(text: &str) -> &str {
    text.split('\t').next().unwrap_or(text)
}

/// Output with durations replaced, for comparing runs.
fn without_durations(text: &str) -> String {
    let duration = regex::Regex::new(r"\d+\.\d{3}s").expect("regex");
    duration.replace_all(text, "<d>").into_owned()
}

/// The `verify` cases known-failures.yaml expects to fail.
fn known_verify_failures() -> BTreeSet<String> {
    known_failures()
        .verify
        .into_iter()
        .map(|k| k.case)
        .collect()
}

#[test]
fn gateway_verify_runs_every_suite_of_the_corpus() {
    let output = run(&gateway(), &["verify", "-v", CORPUS], &repo_root());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results = outcomes(&stdout);
    let suites: BTreeSet<&str> = results
        .keys()
        .filter_map(|id| id.split('/').next())
        .collect();
    assert_eq!(suites.len(), 35, "suites seen: {suites:?}\n{stdout}");
    let failing: BTreeSet<String> = results
        .iter()
        .filter(|(_, passed)| !**passed)
        .map(|(id, _)| id.clone())
        .collect();
    let known = known_verify_failures();
    assert_eq!(
        failing, known,
        "failing cases differ from known-failures.yaml\n{stdout}"
    );
    eprintln!(
        "gateway verify: {} of {} cases pass ({} known failures)",
        results.len() - failing.len(),
        results.len(),
        known.len()
    );
    // Exit code and last line as gator's: FAIL and 1 while anything fails.
    let expect_pass = known.is_empty();
    assert_eq!(output.status.success(), expect_pass);
    let last = if expect_pass { "PASS" } else { "FAIL" };
    assert!(stdout.trim_end().ends_with(last), "{stdout}");
}

#[test]
fn gateway_verify_agrees_with_gator_case_by_case() {
    let Some(gator) = require_gator() else { return };
    let root = repo_root();
    let ours = run(&gateway(), &["verify", "-v", CORPUS], &root);
    let theirs = run(&gator, &["verify", "-v", CORPUS], &root);
    let ours = outcomes(&String::from_utf8_lossy(&ours.stdout));
    let theirs = outcomes(&String::from_utf8_lossy(&theirs.stdout));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "the two runs saw different cases"
    );
    let disagreeing: BTreeSet<String> = ours
        .iter()
        .filter(|(id, passed)| theirs.get(*id) != Some(passed))
        .map(|(id, _)| id.clone())
        .collect();
    let known = known_verify_failures();
    eprintln!(
        "gator vs gateway verify: {} of {} cases agree",
        ours.len() - disagreeing.len(),
        ours.len()
    );
    assert_eq!(
        disagreeing, known,
        "disagreements differ from known-failures.yaml"
    );
}

#[test]
fn failure_reports_read_as_gators() {
    let Some(gator) = require_gator() else { return };
    // A copy of one suite with wrong expectations: both tools must fail it the same way.
    let dir = TempDir::new("gatekeeper-fail");
    let source = repo_root().join("conformance/gatekeeper/k8srequiredlabels");
    copy_dir(&source, &dir.path().join("k8srequiredlabels"));
    let suite = dir.path().join("k8srequiredlabels/suite.yaml");
    let text = std::fs::read_to_string(&suite).expect("suite");
    let broken = text
        .replacen("- violations: no", "- violations: 3", 1)
        .replacen("- violations: 1\n", "- violations: 4\n", 1)
        .replacen(
            "- violations: 0",
            "- violations: yes\n            message: nothing-like-this",
            1,
        )
        .replacen("invalid: true", "invalid: false", 1);
    std::fs::write(&suite, broken).expect("write");
    for args in [
        vec!["verify", "./k8srequiredlabels/..."],
        vec!["verify", "-v", "./k8srequiredlabels"],
    ] {
        let ours = run(&gateway(), &args, dir.path());
        let theirs = run(&gator, &args, dir.path());
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        assert_eq!(
            without_durations(&String::from_utf8_lossy(&ours.stdout)),
            without_durations(&String::from_utf8_lossy(&theirs.stdout)),
            "{args:?}"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Lines (human output) or results (JSON) about known-failing constraints are compared
/// separately: they must still differ.
fn split_human(text: &str, known: &[String]) -> (Vec<String>, Vec<String>) {
    text.lines()
        .map(str::to_string)
        .partition(|line| !known.iter().any(|k| line.contains(&format!("[\"{k}\"]"))))
}

fn split_json(text: &str, known: &[String]) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let parsed: serde_json::Value = serde_json::from_str(text).expect("json output");
    parsed
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .partition(|r| {
            let name = r["constraint"]["metadata"]["name"]
                .as_str()
                .unwrap_or_default();
            !known.iter().any(|k| k == name)
        })
}

#[test]
fn gateway_test_matches_gator_test() {
    let dir = repo_root().join("conformance/gatekeeper/_gator-test");
    let known: Vec<String> = known_failures()
        .gator_test
        .into_iter()
        .map(|k| k.constraint)
        .collect();
    let mut references: Vec<(String, Vec<&str>, String, Option<i32>)> = Vec::new();
    for (file, args) in [
        ("expected.txt", vec!["-f", "input"]),
        ("expected.json", vec!["-f", "input", "-o", "json"]),
        ("expected-deny-only.txt", vec!["-f", "input", "--deny-only"]),
    ] {
        let recorded = std::fs::read_to_string(dir.join(file)).expect("recorded output");
        references.push((format!("recorded {file}"), args, recorded, Some(1)));
    }
    if let Some(gator) = require_gator() {
        let live: Vec<_> = references
            .iter()
            .map(|(_, args, _, _)| {
                let mut full = vec!["test"];
                full.extend(args.iter().copied());
                let output = run(&gator, &full, &dir);
                (
                    format!("gator test {args:?}"),
                    args.clone(),
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                    output.status.code(),
                )
            })
            .collect();
        references.extend(live);
    }
    for (what, args, expected, code) in references {
        let mut full = vec!["test"];
        full.extend(args.iter().copied());
        let output = run(&gateway(), &full, &dir);
        assert_eq!(output.status.code(), code, "{what}: exit code");
        let ours = String::from_utf8_lossy(&output.stdout).into_owned();
        if args.contains(&"json") {
            let (ours_ok, ours_known) = split_json(&ours, &known);
            let (theirs_ok, theirs_known) = split_json(&expected, &known);
            assert_eq!(ours_ok, theirs_ok, "{what}");
            assert!(
                known.is_empty() || ours_known != theirs_known,
                "{what}: a known failure now agrees; remove it from known-failures.yaml"
            );
        } else {
            let (ours_ok, ours_known) = split_human(&ours, &known);
            let (theirs_ok, theirs_known) = split_human(&expected, &known);
            assert_eq!(ours_ok, theirs_ok, "{what}");
            assert!(
                known.is_empty() || ours_known != theirs_known,
                "{what}: a known failure now agrees; remove it from known-failures.yaml"
            );
        }
    }
}

#[test]
fn the_readme_suite_example_passes_on_gateway_and_gator() {
    let root = repo_root();
    let ours = run(&gateway(), &["verify", "examples/gatekeeper"], &root);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stdout)
    );
    let Some(gator) = require_gator() else { return };
    let theirs = run(&gator, &["verify", "examples/gatekeeper"], &root);
    assert!(
        theirs.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.stdout)
    );
}
