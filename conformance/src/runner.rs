//! Runs cases on targets and records a status per case and target.

use std::time::{Duration, Instant};

use regex::Regex;

use crate::case::LoadedCase;
use crate::judge::{Verdict, judge};
use crate::known_failures::KnownFailures;
use crate::outcome::Run;
use crate::targets::Target;

/// How one case went on one target.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Passed,
    Failed {
        reason: String,
        expected: String,
        actual: String,
    },
    /// Failed, and listed as a known failure with this reason.
    Known(String),
    /// Listed as a known failure, but passed: the list must be updated.
    Fixed(String),
    Skipped(String),
}

impl Status {
    /// True when this status fails a run.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Failed { .. } | Status::Fixed(_))
    }
}

/// One case on one target.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// `<folder>/<note>`.
    pub name: String,
    pub folder: String,
    pub file: String,
    pub target: String,
    pub status: Status,
    pub elapsed: Duration,
}

/// Runs `case` on `target`, judged and checked against the known failures.
pub fn run_case(case: &LoadedCase, target: &dyn Target, known: &KnownFailures) -> CaseResult {
    let name = case.name();
    let started = Instant::now();
    let verdict = match target.run(case) {
        Run::Skipped(reason) => Err(reason),
        Run::Done(outcome) => Ok(judge(&case.case, &outcome)),
    };
    let known_reason = known.reason(&name, target.name());
    let status = match (verdict, known_reason) {
        (Err(reason), _) => Status::Skipped(reason),
        (Ok(Verdict::Pass), None) => Status::Passed,
        (Ok(Verdict::Pass), Some(reason)) => Status::Fixed(reason.to_string()),
        (Ok(Verdict::Fail { .. }), Some(reason)) => Status::Known(reason.to_string()),
        (
            Ok(Verdict::Fail {
                reason,
                expected,
                actual,
            }),
            None,
        ) => Status::Failed {
            reason,
            expected,
            actual,
        },
    };
    CaseResult {
        name,
        folder: case.folder.clone(),
        file: case.file.clone(),
        target: target.name().to_string(),
        status,
        elapsed: started.elapsed(),
    }
}

/// Runs every case matching `filter` on every target, spreading cases over `threads`.
pub fn run_all(
    cases: &[LoadedCase],
    targets: &[&dyn Target],
    filter: Option<&Regex>,
    known: &KnownFailures,
    threads: usize,
) -> Vec<CaseResult> {
    let selected: Vec<&LoadedCase> = cases
        .iter()
        .filter(|case| filter.is_none_or(|f| f.is_match(&case.name())))
        .collect();
    let mut results = Vec::with_capacity(selected.len() * targets.len());
    for target in targets {
        let chunks: Vec<&[&LoadedCase]> = selected
            .chunks(selected.len().div_ceil(threads.max(1)).max(1))
            .collect();
        let per_chunk: Vec<Vec<CaseResult>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    scope.spawn(move || chunk.iter().map(|c| run_case(c, *target, known)).collect())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        results.extend(per_chunk.into_iter().flatten());
    }
    results
}
