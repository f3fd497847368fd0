//! The conformance table: per folder and target, how many cases passed, failed, are known
//! failures or were skipped; as text, JSON or JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::runner::{CaseResult, Status};

/// One row of the table.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Row {
    /// A case folder, or a Gatekeeper suite.
    pub group: String,
    pub target: String,
    pub passed: usize,
    pub failed: usize,
    pub known: usize,
    pub skipped: usize,
}

impl Row {
    fn add(&mut self, status: &Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed { .. } | Status::Fixed(_) => self.failed += 1,
            Status::Known(_) => self.known += 1,
            Status::Skipped(_) => self.skipped += 1,
        }
    }

    fn total(&self) -> usize {
        self.passed + self.failed + self.known + self.skipped
    }
}

/// The whole report: rows, and the case results behind them.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub results: Vec<CaseResult>,
}

impl Report {
    /// Groups case results into rows by folder and target.
    pub fn from_results(results: Vec<CaseResult>) -> Report {
        let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
        for result in &results {
            rows.entry((result.target.clone(), result.folder.clone()))
                .or_insert_with(|| Row {
                    group: result.folder.clone(),
                    target: result.target.clone(),
                    ..Row::default()
                })
                .add(&result.status);
        }
        Report {
            rows: rows.into_values().collect(),
            results,
        }
    }

    /// Adds a row computed elsewhere (a Gatekeeper suite run through `gateway verify`).
    pub fn add_row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Per-target totals.
    pub fn totals(&self) -> Vec<Row> {
        let mut totals: BTreeMap<&str, Row> = BTreeMap::new();
        for row in &self.rows {
            let total = totals.entry(&row.target).or_insert_with(|| Row {
                group: "total".into(),
                target: row.target.clone(),
                ..Row::default()
            });
            total.passed += row.passed;
            total.failed += row.failed;
            total.known += row.known;
            total.skipped += row.skipped;
        }
        totals.into_values().collect()
    }

    /// True when nothing failed (known failures do not count; fixed ones do).
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|row| row.failed == 0)
    }

    /// A fixed-width table, rows then totals.
    pub fn text(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.group.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<width$}  {:<7} {:>6} {:>6} {:>6} {:>7}",
            "group", "target", "passed", "failed", "known", "skipped"
        );
        for row in self.rows.iter().chain(self.totals().iter()) {
            let _ = writeln!(
                out,
                "{:<width$}  {:<7} {:>6} {:>6} {:>6} {:>7}",
                row.group, row.target, row.passed, row.failed, row.known, row.skipped
            );
        }
        out
    }

    /// Every failing case with expected and actual side by side, and a replay command.
    pub fn failures(&self, replay: &dyn Fn(&CaseResult) -> String) -> String {
        let mut out = String::new();
        for result in &self.results {
            match &result.status {
                Status::Failed {
                    reason,
                    expected,
                    actual,
                } => {
                    let _ = writeln!(
                        out,
                        "FAIL [{}] {} ({})\n  {reason}\n  expected: {expected}\n  actual:   {actual}\n  replay:   {}\n",
                        result.target,
                        result.name,
                        result.file,
                        replay(result)
                    );
                }
                Status::Fixed(reason) => {
                    let _ = writeln!(
                        out,
                        "FIXED [{}] {}: passes but is listed as a known failure ({reason}); remove it from the list\n",
                        result.target, result.name
                    );
                }
                _ => {}
            }
        }
        out
    }

    /// The table and every case as JSON.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Case<'a> {
            name: &'a str,
            target: &'a str,
            status: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<String>,
            elapsed_ms: f64,
        }
        #[derive(Serialize)]
        struct Json<'a> {
            totals: Vec<Row>,
            rows: &'a [Row],
            cases: Vec<Case<'a>>,
        }
        let cases = self
            .results
            .iter()
            .map(|r| {
                let (status, detail) = describe(&r.status);
                Case {
                    name: &r.name,
                    target: &r.target,
                    status,
                    detail,
                    elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
                }
            })
            .collect();
        serde_json::to_string_pretty(&Json {
            totals: self.totals(),
            rows: &self.rows,
            cases,
        })
        .unwrap_or_default()
    }

    /// JUnit XML: a test suite per row, a test case per case.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
                xml(&format!("{}:{}", row.target, row.group)),
                row.total(),
                row.failed,
                row.skipped + row.known
            );
            for result in self
                .results
                .iter()
                .filter(|r| r.folder == row.group && r.target == row.target)
            {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6}\"",
                    xml(&result.name),
                    xml(&result.target),
                    result.elapsed.as_secs_f64()
                );
                match describe(&result.status) {
                    ("passed", _) => out.push_str("/>\n"),
                    ("failed" | "fixed", detail) => {
                        let _ = writeln!(
                            out,
                            "><failure message=\"{}\"/></testcase>",
                            xml(&detail.unwrap_or_default())
                        );
                    }
                    (_, detail) => {
                        let _ = writeln!(
                            out,
                            "><skipped message=\"{}\"/></testcase>",
                            xml(&detail.unwrap_or_default())
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn describe(status: &Status) -> (&'static str, Option<String>) {
    match status {
        Status::Passed => ("passed", None),
        Status::Failed {
            reason,
            expected,
            actual,
        } => (
            "failed",
            Some(format!("{reason}: expected {expected}, got {actual}")),
        ),
        Status::Known(reason) => ("known", Some(reason.clone())),
        Status::Fixed(reason) => (
            "fixed",
            Some(format!("listed as known ({reason}) but passes")),
        ),
        Status::Skipped(reason) => ("skipped", Some(reason.clone())),
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
