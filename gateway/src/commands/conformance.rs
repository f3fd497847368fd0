//! `gateway conformance`: runs OPA's test-case YAML from any directory tree on the Rego engine
//! in-process, over HTTP against any OPA-compatible server, or both (against gateways this
//! command starts itself), plus Gatekeeper suites, and prints the conformance table.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use conformance::known_failures::{self, KnownFailures};
use conformance::report::{Report, Row};
use conformance::runner::{CaseResult, run_all};
use conformance::targets::{HttpTarget, RegoTarget, Target};
use rego_runtime::Limits;

use crate::app::App;

/// Flags of `gateway conformance`.
#[derive(Debug, Args, Clone)]
pub struct ConformanceArgs {
    /// Directories (or files) of OPA test cases; folders named `v0` hold Rego v0 cases.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// `rego` (in-process), `regorus` (in-process with the compiled evaluator off),
    /// `http=HOST:PORT[,v0=HOST:PORT]` (a running server; the second one started with
    /// --v0-compatible serves v0 cases), or `all` (`rego` and `http`, against gateways this
    /// command starts).
    #[arg(long, default_value = "rego")]
    pub target: String,
    /// Run only cases whose `<folder>/<note>` matches this regex.
    #[arg(long)]
    pub filter: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print every failing case with expected and actual side by side.
    #[arg(long)]
    pub show_failures: bool,
    /// Expected failures with their reasons (see conformance/known-failures.yaml). Without
    /// it, each PATH's list is found by itself: `known-failures.yaml` in the PATH directory
    /// (a file's own directory), else in its parent.
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// Gatekeeper suite paths (`dir/...` recurses) to add to the table, one row per suite.
    #[arg(long, value_name = "PATH")]
    pub gatekeeper: Vec<String>,
    /// Worker threads for in-process targets.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

/// Runs the command; the exit code is non-zero when a case failed.
pub fn main(args: &ConformanceArgs) -> ExitCode {
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &ConformanceArgs) -> anyhow::Result<bool> {
    if args.paths.is_empty() && args.gatekeeper.is_empty() {
        bail!("give at least one PATH of test cases or --gatekeeper suites");
    }
    let known = known_failures(args)?;
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .context("--filter is not a valid regex")?;
    let mut cases = Vec::new();
    for path in &args.paths {
        cases.extend(conformance::load::load(path)?);
    }

    let targets = Targets::start(&args.target)?;
    let target_refs: Vec<&dyn Target> = targets.list.iter().map(|t| &**t).collect();
    let results = run_all(&cases, &target_refs, filter.as_ref(), &known, args.threads);
    let mut report = Report::from_results(results);
    if !args.gatekeeper.is_empty() {
        let limits = Limits::default();
        let suites = crate::commands::verify::summarize(&args.gatekeeper, &limits)
            .map_err(|e| anyhow::anyhow!(e))?;
        for suite in suites {
            report.add_row(Row {
                group: suite.suite,
                target: "gatekeeper".into(),
                passed: suite.passed,
                failed: suite.failed,
                known: 0,
                skipped: suite.skipped,
            });
        }
    }

    let replay = |result: &CaseResult| {
        let path = args
            .paths
            .first()
            .map_or_else(String::new, |p| p.display().to_string());
        format!(
            "gateway conformance --target {} --filter '^{}$' {path}",
            if result.target == "rego" {
                "rego"
            } else {
                &args.target
            },
            regex::escape(&result.name)
        )
    };
    match args.format {
        Format::Text => {
            if args.show_failures {
                crate::stdout::print(&report.failures(&replay))?;
            }
            crate::stdout::print(&report.text())?;
        }
        Format::Json => crate::stdout::print(&format!("{}\n", report.json()))?,
        Format::Junit => crate::stdout::print(&report.junit())?,
    }
    Ok(report.passed())
}

/// The flag's list, or the lists found beside the PATHs.
fn known_failures(args: &ConformanceArgs) -> anyhow::Result<KnownFailures> {
    if let Some(path) = &args.known_failures {
        if !path.exists() {
            bail!("--known-failures {}: no such file", path.display());
        }
        return KnownFailures::load(path);
    }
    // Two PATHs of one corpus find one list; it counts once.
    let mut found: Vec<PathBuf> = Vec::new();
    for list in args.paths.iter().filter_map(|p| known_failures::beside(p)) {
        let same = |other: &PathBuf| other.canonicalize().ok() == list.canonicalize().ok();
        if !found.iter().any(same) {
            found.push(list);
        }
    }
    let mut known = KnownFailures::default();
    for path in found {
        let list = KnownFailures::load(&path).with_context(|| {
            format!(
                "{} was found beside the cases; give --known-failures FILE for another list",
                path.display()
            )
        })?;
        // On stderr, so stdout stays the report alone.
        eprintln!(
            "known failures: {} ({} entries)",
            path.display(),
            list.entries().len()
        );
        known.extend(list);
    }
    Ok(known)
}

/// The targets of a run, and the gateways started for `all`.
struct Targets {
    list: Vec<Box<dyn Target>>,
    _servers: Vec<InProcessGateway>,
}

impl Targets {
    fn start(spec: &str) -> anyhow::Result<Targets> {
        if spec == "rego" || spec == "regorus" {
            let target = if spec == "rego" {
                RegoTarget::default()
            } else {
                RegoTarget::regorus_only()
            };
            return Ok(Targets {
                list: vec![Box::new(target)],
                _servers: Vec::new(),
            });
        }
        if let Some(addresses) = spec.strip_prefix("http=") {
            let (v1, v0) = match addresses.split_once(",v0=") {
                Some((v1, v0)) => (v1, Some(v0)),
                None => (addresses, None),
            };
            return Ok(Targets {
                list: vec![Box::new(HttpTarget::new(v1, v0))],
                _servers: Vec::new(),
            });
        }
        if spec == "all" {
            let v1 = InProcessGateway::start(&[])?;
            let v0 = InProcessGateway::start(&["--v0-compatible"])?;
            return Ok(Targets {
                list: vec![
                    Box::new(RegoTarget::default()),
                    Box::new(HttpTarget::new(&v1.addr, Some(&v0.addr))),
                ],
                _servers: vec![v1, v0],
            });
        }
        bail!("--target must be rego, regorus, http=HOST:PORT[,v0=HOST:PORT] or all, not {spec:?}")
    }
}

/// A gateway served on an ephemeral loopback port by this process, stopped on drop.
struct InProcessGateway {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _app: Arc<App>,
}

impl InProcessGateway {
    fn start(flags: &[&str]) -> anyhow::Result<InProcessGateway> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(
            ["gateway", "run", "--log-level", "error"]
                .iter()
                .chain(flags.iter())
                .copied(),
        )?;
        let crate::cli::Command::Run(run) = cli.command else {
            bail!("internal: not a run command");
        };
        let config = crate::config::Config::from_args(&run)?;
        let (app, _loader) = crate::build_app(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let server_app = app.clone();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .thread_stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = bound_tx.send(Err(error.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(listener) => listener,
                    Err(error) => {
                        let _ = bound_tx.send(Err(error.to_string()));
                        return;
                    }
                };
                let _ = bound_tx.send(listener.local_addr().map_err(|e| e.to_string()));
                let shutdown = async {
                    let _ = stopped.await;
                };
                let _ = crate::server::run(listener, server_app, None, shutdown).await;
            });
        });
        let addr = bound_rx
            .recv()
            .context("the in-process gateway did not start")?
            .map_err(|e| anyhow::anyhow!("the in-process gateway did not start: {e}"))?;
        Ok(InProcessGateway {
            addr: addr.to_string(),
            stop: Some(stop),
            thread: Some(thread),
            _app: app,
        })
    }
}

impl Drop for InProcessGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
