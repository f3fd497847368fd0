//! `gateway verify`: runs gator's test suites (`test.gatekeeper.sh/v1alpha1 Suite`) unchanged
//! and prints what `gator verify` prints (`ok`, `--- FAIL`, `=== RUN` with `-v`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rego_runtime::rego::RegoEngine;
use rego_runtime::{Engine, Limits, Value};

use crate::gatekeeper::constraints::{ConstraintError, GATOR_POINT};
use crate::gatekeeper::evaluate::{self, Violation};
use crate::gatekeeper::objects;
use crate::gatekeeper::review;
use crate::gatekeeper::state::{GatekeeperContents, Origin, PreparedGatekeeper};

const SUITE_GROUP: &str = "test.gatekeeper.sh";

/// One suite file as read.
struct Suite {
    /// The path printed (`gator`'s InputPath).
    shown: String,
    file: PathBuf,
    skip: bool,
    tests: Vec<Value>,
}

/// Results in gator's tree: suite, test, case.
struct SuiteResult {
    shown: String,
    error: Option<String>,
    runtime: Duration,
    tests: Vec<TestResult>,
}

struct TestResult {
    name: String,
    skipped: bool,
    error: Option<String>,
    runtime: Duration,
    cases: Vec<CaseResult>,
}

struct CaseResult {
    name: String,
    skipped: bool,
    error: Option<String>,
    runtime: Duration,
    prints: Vec<String>,
}

impl TestResult {
    fn failed(&self) -> bool {
        self.error.is_some() || self.cases.iter().any(|c| c.error.is_some())
    }
}

impl SuiteResult {
    fn failed(&self) -> bool {
        self.error.is_some() || self.tests.iter().any(TestResult::failed)
    }
}

/// gator's `--run` filter: `regex` matches tests or cases, `test//case` both.
pub struct Filter {
    test: Option<regex::Regex>,
    case: Option<regex::Regex>,
    either: bool,
}

impl Filter {
    /// Parses a `--run` value.
    ///
    /// # Errors
    /// `invalid test filter: ...` for a bad regex or more than one `//`.
    pub fn new(filter: &str) -> Result<Filter, String> {
        let compile =
            |text: &str| regex::Regex::new(text).map_err(|e| format!("invalid test filter: {e}"));
        if filter.is_empty() {
            return Ok(Filter {
                test: None,
                case: None,
                either: false,
            });
        }
        let parts: Vec<&str> = filter.split("//").collect();
        match parts.as_slice() {
            [one] => Ok(Filter {
                test: Some(compile(one)?),
                case: None,
                either: true,
            }),
            [test, case] => Ok(Filter {
                test: Some(compile(test)?),
                case: Some(compile(case)?),
                either: false,
            }),
            _ => Err("invalid test filter: a filter may include at most one \"//\"".to_string()),
        }
    }

    fn matches_case(&self, test: &str, case: &str) -> bool {
        match (&self.test, &self.case, self.either) {
            (None, _, _) => true,
            (Some(re), _, true) => re.is_match(case) || re.is_match(test),
            (Some(t), Some(c), false) => c.is_match(case) && t.is_match(test),
            (Some(t), None, false) => t.is_match(test),
        }
    }

    fn matches_test(&self, test: &str, cases: &[Value]) -> bool {
        match (&self.test, self.either) {
            (None, _) => true,
            (Some(re), true) => {
                re.is_match(test)
                    || cases
                        .iter()
                        .any(|c| self.matches_case(test, objects::str_at(c, &["name"])))
            }
            (Some(re), false) => re.is_match(test),
        }
    }
}

/// Runs the suites under `paths` (`dir/...` recurses) and writes gator's report to `out`.
/// Returns true when everything passed.
///
/// # Errors
/// A path that cannot be listed or a suite file that does not parse, as gator refuses them.
pub fn run(
    paths: &[String],
    filter: &Filter,
    verbose: bool,
    limits: &Limits,
    out: &mut String,
) -> Result<bool, String> {
    let mut suites = Vec::new();
    for path in paths {
        suites.extend(read_suites(path).map_err(|e| format!("listing test files: {e}"))?);
    }
    let engine = RegoEngine::default();
    let mut results = Vec::new();
    for suite in &suites {
        results.push(run_suite(&engine, suite, filter, limits));
    }
    let mut failed = false;
    for result in &results {
        print_suite(out, result, verbose);
        failed |= result.failed();
    }
    out.push_str(if failed { "FAIL\n" } else { "PASS\n" });
    Ok(!failed)
}

/// One suite's totals, for the conformance table (`gateway conformance --gatekeeper`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteSummary {
    /// The suite as gator prints it.
    pub suite: String,
    pub passed: usize,
    /// Failed cases, plus one for a test or suite that failed before running cases.
    pub failed: usize,
    pub skipped: usize,
}

/// Runs the suites under `paths` and counts cases per suite.
///
/// # Errors
/// As [`run`].
pub fn summarize(paths: &[String], limits: &Limits) -> Result<Vec<SuiteSummary>, String> {
    let mut suites = Vec::new();
    for path in paths {
        suites.extend(read_suites(path).map_err(|e| format!("listing test files: {e}"))?);
    }
    let engine = RegoEngine::default();
    let filter = Filter::new("")?;
    Ok(suites
        .iter()
        .map(|suite| {
            let result = run_suite(&engine, suite, &filter, limits);
            let mut summary = SuiteSummary {
                suite: result.shown.clone(),
                passed: 0,
                failed: usize::from(result.error.is_some()),
                skipped: 0,
            };
            for test in &result.tests {
                if test.skipped {
                    summary.skipped += test.cases.len().max(1);
                    continue;
                }
                if test.error.is_some() {
                    summary.failed += 1;
                }
                for case in &test.cases {
                    match (case.skipped, &case.error) {
                        (true, _) => summary.skipped += 1,
                        (false, Some(_)) => summary.failed += 1,
                        (false, None) => summary.passed += 1,
                    }
                }
            }
            summary
        })
        .collect())
}

fn read_suites(original: &str) -> Result<Vec<Suite>, String> {
    let (original, recursive) = match original.strip_suffix("...") {
        Some(base) => (base.to_string(), true),
        None => (original.to_string(), false),
    };
    let target = std::path::absolute(if original.is_empty() { "." } else { &original })
        .map_err(|e| format!("getting absolute path: {e}"))?;
    let meta = std::fs::metadata(&target).map_err(|e| format!("stat {}: {e}", target.display()))?;
    let mut files = Vec::new();
    if !meta.is_dir() {
        if recursive {
            return Err(format!(
                "can only recursively traverse directories, not a directory: {:?}",
                target.display().to_string()
            ));
        }
        if !objects::has_extension(&target, &objects::SUITE_EXTENSIONS) {
            let ext = target
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default();
            return Err(format!("unsupported extension: {ext:?}"));
        }
        files.push(target.clone());
    } else if recursive {
        files =
            objects::files_below(&target, &objects::SUITE_EXTENSIONS).map_err(|e| e.to_string())?;
    } else {
        let entries = std::fs::read_dir(&target).map_err(|e| e.to_string())?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && objects::has_extension(&path, &objects::SUITE_EXTENSIONS) {
                files.push(path);
            }
        }
    }
    files.sort();
    // gator prints each suite as the path given plus the part of the file path after it.
    let mut cut = original.trim_start_matches('/').to_string();
    cut = cut.trim_start_matches("./").to_string();
    while let Some(rest) = cut.strip_prefix("../") {
        cut = rest.to_string();
    }
    let mut suites = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("reading file {:?}: {e}", file.display().to_string()))?;
        let docs = objects::parse_documents(&text).map_err(|e| {
            format!(
                "invalid yaml: parsing yaml file {:?}: {e}",
                file.display().to_string()
            )
        })?;
        let Some(doc) = docs.into_iter().next() else {
            continue;
        };
        if objects::group_of(objects::api_version(&doc)) != SUITE_GROUP
            || objects::kind(&doc) != "Suite"
        {
            continue;
        }
        let file_text = file.display().to_string();
        let after = file_text
            .find(&cut)
            .map(|at| file_text[at + cut.len()..].to_string())
            .unwrap_or_default();
        suites.push(Suite {
            shown: format!("{original}{after}"),
            skip: matches!(doc.get("skip"), Some(Value::Bool(true))),
            tests: doc
                .get("tests")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .to_vec(),
            file,
        });
    }
    Ok(suites)
}

fn run_suite(engine: &dyn Engine, suite: &Suite, filter: &Filter, limits: &Limits) -> SuiteResult {
    let started = Instant::now();
    if suite.skip {
        return SuiteResult {
            shown: suite.shown.clone(),
            error: None,
            runtime: Duration::ZERO,
            tests: Vec::new(),
        };
    }
    let dir = suite.file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let tests = suite
        .tests
        .iter()
        .map(|test| {
            let name = objects::str_at(test, &["name"]).to_string();
            let cases = test
                .get("cases")
                .and_then(Value::as_array)
                .unwrap_or_default();
            let skip = matches!(test.get("skip"), Some(Value::Bool(true)));
            if skip || !filter.matches_test(&name, cases) {
                return TestResult {
                    name,
                    skipped: true,
                    error: None,
                    runtime: Duration::ZERO,
                    cases: Vec::new(),
                };
            }
            run_test(engine, &dir, test, name, filter, limits)
        })
        .collect();
    SuiteResult {
        shown: suite.shown.clone(),
        error: None,
        runtime: started.elapsed(),
        tests,
    }
}

fn resolve(dir: &Path, relative: &str) -> PathBuf {
    dir.join(relative.trim_start_matches('/'))
}

/// The first object of a file, as gator's `ReadUnstructured` reads one.
fn read_one(path: &Path, what: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "reading {what} from {:?}: open {}: {}",
            path.display().to_string(),
            path.display(),
            io_reason(&e)
        )
    })?;
    objects::parse_documents(&text)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            format!(
                "missing objects: path {:?} defines no YAML objects",
                path.display().to_string()
            )
        })
}

/// Every object of a file, as gator's `readObjects` reads them.
fn read_all(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("open {}: {}", path.display(), io_reason(&e)))?;
    let objects = objects::parse_documents(&text).map_err(|e| {
        format!(
            "reading {:?}: invalid yaml: {e}",
            path.display().to_string()
        )
    })?;
    if objects.is_empty() {
        return Err(format!(
            "missing objects: path {:?} defines no YAML objects",
            path.display().to_string()
        ));
    }
    Ok(objects)
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        _ => error.to_string(),
    }
}

fn run_test(
    engine: &dyn Engine,
    dir: &Path,
    test: &Value,
    name: String,
    filter: &Filter,
    limits: &Limits,
) -> TestResult {
    let started = Instant::now();
    let invalid = matches!(test.get("invalid"), Some(Value::Bool(true)));
    let setup = setup_test(engine, dir, test);
    let finish = |error: Option<String>, cases: Vec<CaseResult>| TestResult {
        name: name.clone(),
        skipped: false,
        error,
        runtime: started.elapsed(),
        cases,
    };
    if invalid {
        return match setup {
            Err(SetupError::Constraint(ConstraintError::Schema(_))) => finish(None, Vec::new()),
            Err(other) => finish(
                Some(format!(
                    "constraint should have failed schema validation: got error {} but want schema validation failed",
                    other.message()
                )),
                Vec::new(),
            ),
            Ok(_) => finish(
                Some(
                    "constraint should have failed schema validation: got error %!w(<nil>) but want schema validation failed"
                        .to_string(),
                ),
                Vec::new(),
            ),
        };
    }
    let (contents, prepared) = match setup {
        Ok(ready) => ready,
        Err(error) => return finish(Some(error.message()), Vec::new()),
    };
    let cases = test
        .get("cases")
        .and_then(Value::as_array)
        .unwrap_or_default();
    let results = cases
        .iter()
        .map(|case| {
            let case_name = objects::str_at(case, &["name"]).to_string();
            let skip = matches!(case.get("skip"), Some(Value::Bool(true)));
            if skip || !filter.matches_case(&name, &case_name) {
                return CaseResult {
                    name: case_name,
                    skipped: true,
                    error: None,
                    runtime: Duration::ZERO,
                    prints: Vec::new(),
                };
            }
            let case_started = Instant::now();
            let (error, prints) = match run_case(engine, dir, case, &contents, &prepared, limits) {
                Ok(prints) => (None, prints),
                Err((error, prints)) => (Some(error), prints),
            };
            CaseResult {
                name: case_name,
                skipped: false,
                error,
                runtime: case_started.elapsed(),
                prints,
            }
        })
        .collect();
    finish(None, results)
}

enum SetupError {
    Other(String),
    Constraint(ConstraintError),
}

impl SetupError {
    fn message(&self) -> String {
        match self {
            SetupError::Other(m) => m.clone(),
            SetupError::Constraint(e) => e.to_string(),
        }
    }
}

/// Adds the test's template and constraint, as gator's `tryAddConstraint` does.
fn setup_test(
    engine: &dyn Engine,
    dir: &Path,
    test: &Value,
) -> Result<(GatekeeperContents, PreparedGatekeeper), SetupError> {
    let template_path = objects::str_at(test, &["template"]);
    if template_path.is_empty() {
        return Err(SetupError::Other(
            "invalid Suite: missing template".to_string(),
        ));
    }
    let template =
        read_one(&resolve(dir, template_path), "ConstraintTemplate").map_err(SetupError::Other)?;
    let mut contents = GatekeeperContents::default();
    let name = contents
        .put_template(template, Origin::Files)
        .map_err(|e| SetupError::Other(format!("adding template: {e}")))?;
    let prepared = PreparedGatekeeper::build(engine, &contents, None);
    if let Some(problem) = prepared.templates.get(&name).and_then(|t| t.problem()) {
        return Err(SetupError::Other(format!("adding template: {problem}")));
    }
    let constraint_path = objects::str_at(test, &["constraint"]);
    if constraint_path.is_empty() {
        return Err(SetupError::Other(
            "invalid Suite: missing constraint".to_string(),
        ));
    }
    let constraint =
        read_one(&resolve(dir, constraint_path), "Constraint").map_err(SetupError::Other)?;
    if objects::group_of(objects::api_version(&constraint)) != crate::gatekeeper::constraints::GROUP
    {
        return Err(SetupError::Other("not a Constraint".to_string()));
    }
    contents
        .put_constraint(constraint, Origin::Files)
        .map_err(|refusal| match refusal {
            crate::gatekeeper::state::Refusal::Constraint(e) => SetupError::Constraint(e),
            other => SetupError::Other(other.to_string()),
        })?;
    let prepared = PreparedGatekeeper::build(engine, &contents, Some(&prepared));
    Ok((contents, prepared))
}

type CaseFailure = (String, Vec<String>);

fn run_case(
    engine: &dyn Engine,
    dir: &Path,
    case: &Value,
    contents: &GatekeeperContents,
    prepared: &PreparedGatekeeper,
    limits: &Limits,
) -> Result<Vec<String>, CaseFailure> {
    let fail = |message: String| (message, Vec::new());
    let object_path = objects::str_at(case, &["object"]);
    if object_path.is_empty() {
        return Err(fail("invalid Case: must define object".to_string()));
    }
    let assertions = case
        .get("assertions")
        .and_then(Value::as_array)
        .unwrap_or_default();
    if assertions.is_empty() {
        return Err(fail(
            "invalid Case: assertions must be non-empty".to_string(),
        ));
    }
    let object_file = resolve(dir, object_path);
    let mut to_review = read_all(&object_file).map_err(fail)?;
    if to_review.len() != 1 {
        return Err(fail(format!(
            "object file must contain exactly one object: {:?} defines {} objects",
            object_file.display().to_string(),
            to_review.len()
        )));
    }
    let object = to_review.remove(0);

    let inventory_paths = case
        .get("inventory")
        .and_then(Value::as_array)
        .unwrap_or_default();
    let with_inventory;
    let prepared = if inventory_paths.is_empty() {
        prepared
    } else {
        let mut contents = contents.clone();
        for path in inventory_paths {
            let path = resolve(dir, path.as_str().unwrap_or_default());
            for item in read_all(&path).map_err(fail)? {
                contents.inventory.add(&item).map_err(|e| {
                    fail(format!(
                        "unable to add object to data.inventory: {} {}/{}: {e}",
                        objects::api_version(&item),
                        objects::namespace(&item),
                        objects::name(&item)
                    ))
                })?;
            }
        }
        with_inventory = PreparedGatekeeper::build(engine, &contents, Some(prepared));
        &with_inventory
    };

    let lookup = |name: &str| prepared.inventory.namespace(name).cloned();
    let is_admission_review = objects::kind(&object) == "AdmissionReview"
        && objects::group_of(objects::api_version(&object)) == "admission.k8s.io";
    let review = if is_admission_review {
        admission_review(&object, &lookup).map_err(fail)?
    } else {
        let namespace = Some(objects::namespace(&object))
            .filter(|ns| !ns.is_empty())
            .and_then(lookup);
        review::from_object(&object, namespace, false, "Original")
    };
    let outcome =
        evaluate::review(engine, prepared, &review, GATOR_POINT, limits).map_err(|e| {
            fail(format!(
                "reviewing {} {}/{}: {e}",
                objects::api_version(&object),
                objects::namespace(&object),
                objects::name(&object)
            ))
        })?;
    for assertion in assertions {
        check_assertion(assertion, &outcome.violations).map_err(|e| (e, outcome.prints.clone()))?;
    }
    Ok(outcome.prints)
}

/// gator's `validateAndReviewAdmissionReviewRequest`.
fn admission_review(
    object: &Value,
    lookup: &dyn Fn(&str) -> Option<Value>,
) -> Result<review::Review, String> {
    let Some(request) = object.get("request").filter(|r| !matches!(r, Value::Null)) else {
        return Err("missing an AdmissionRequest object: request did not actually pass in an AdmissionRequest".to_string());
    };
    let present = |key: &str| request.get(key).is_some_and(|v| !matches!(v, Value::Null));
    if !present("object") && !present("oldObject") {
        return Err("no object or oldObject found to review: AdmissionRequest does not contain an \"object\" or \"oldObject\" to review".to_string());
    }
    review::from_admission_request(request, &lookup, false)
        .map_err(|e| format!("not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: {e}"))
}

/// One assertion: how many results' messages match the regex (all, without one).
fn check_assertion(assertion: &Value, violations: &[Violation]) -> Result<(), String> {
    let message = assertion.get("message").and_then(Value::as_str);
    let regex = match message {
        Some(text) => Some(
            regex::Regex::new(text)
                .map_err(|e| format!("message contains invalid regular expression: {e}"))?,
        ),
        None => None,
    };
    let matching = violations
        .iter()
        .filter(|v| regex.as_ref().is_none_or(|re| re.is_match(&v.msg)))
        .count();
    let messages: Vec<&str> = violations.iter().map(|v| v.msg.as_str()).collect();
    let got = |detail: String| {
        Err(format!(
            "unexpected number of violations: {detail}: got messages [{}]",
            messages.join(" ")
        ))
    };
    let containing = message
        .map(|m| format!(" containing {m:?}"))
        .unwrap_or_default();
    let invalid = || {
        Err("invalid yaml: assertion.violation, if set, must be a nonnegative integer, \"yes\", or \"no\"".to_string())
    };
    match assertion.get("violations") {
        None | Some(Value::Null) => want_at_least_one(matching, &containing, got),
        Some(Value::String(s)) if &**s == "yes" => want_at_least_one(matching, &containing, got),
        Some(Value::String(s)) if &**s == "no" => {
            if matching > 0 {
                got(format!(
                    "got {matching} violations{containing} but want none"
                ))
            } else {
                Ok(())
            }
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(want) if want >= 0 => {
                if usize::try_from(want).ok() == Some(matching) {
                    Ok(())
                } else {
                    got(format!(
                        "got {matching} violations{containing} but want exactly {want}"
                    ))
                }
            }
            _ => invalid(),
        },
        Some(_) => invalid(),
    }
}

fn want_at_least_one(
    matching: usize,
    containing: &str,
    got: impl Fn(String) -> Result<(), String>,
) -> Result<(), String> {
    if matching == 0 {
        got(format!("got 0 violations{containing} but want at least 1"))
    } else {
        Ok(())
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn print_suite(out: &mut String, suite: &SuiteResult, verbose: bool) {
    for test in &suite.tests {
        print_test(out, test, verbose);
    }
    let status = if suite.failed() { "FAIL" } else { "ok" };
    let _ = writeln!(out, "{status}\t{}\t{}", suite.shown, seconds(suite.runtime));
    if let Some(error) = &suite.error {
        let _ = writeln!(out, "  {error}");
    }
}

fn print_test(out: &mut String, test: &TestResult, verbose: bool) {
    if verbose {
        if test.skipped {
            let _ = writeln!(out, "=== SKIP  {}", test.name);
            return;
        }
        let _ = writeln!(out, "=== RUN   {}", test.name);
    }
    for case in &test.cases {
        print_case(out, case, verbose);
    }
    if test.failed() {
        let _ = writeln!(out, "--- FAIL: {}\t({})", test.name, seconds(test.runtime));
        if let Some(error) = &test.error {
            let _ = writeln!(out, "  {error}");
        }
    } else if verbose {
        let _ = writeln!(out, "--- PASS: {}\t({})", test.name, seconds(test.runtime));
    }
}

fn print_case(out: &mut String, case: &CaseResult, verbose: bool) {
    if verbose {
        if case.skipped {
            let _ = writeln!(out, "    === SKIP  {}", case.name);
            return;
        }
        let _ = writeln!(out, "    === RUN   {}", case.name);
        if !case.prints.is_empty() {
            out.push_str("        === PRINT ===\n");
            for line in &case.prints {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    if let Some(error) = &case.error {
        let _ = writeln!(
            out,
            "    --- FAIL: {}\t({})\n        {error}",
            case.name,
            seconds(case.runtime)
        );
    } else if verbose {
        let _ = writeln!(
            out,
            "    --- PASS: {}\t({})",
            case.name,
            seconds(case.runtime)
        );
    }
}

/// `gateway verify`: prints the report on stdout; exit code 1 on any failure, as gator.
pub fn main(args: &crate::cli::VerifyArgs) -> std::process::ExitCode {
    let outcome = Filter::new(&args.run).and_then(|filter| {
        let mut out = String::new();
        let passed = run(
            &args.paths,
            &filter,
            args.verbose,
            &Limits::default(),
            &mut out,
        )?;
        Ok((passed, out))
    });
    match outcome {
        Ok((passed, out)) => {
            // gator prints the report with Println: one more newline at the end.
            if let Err(error) = crate::stdout::print(&format!("{out}\n")) {
                eprintln!("Error: {error}");
                return std::process::ExitCode::FAILURE;
            }
            if passed {
                std::process::ExitCode::SUCCESS
            } else {
                eprintln!("Error: FAIL");
                std::process::ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("Error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
