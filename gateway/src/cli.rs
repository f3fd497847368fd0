//! Command-line interface: `gateway run`, `verify`, `test`, `conformance`, `builtins`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A Rego/OPA compatibility gateway: OPA's REST API and Gatekeeper's webhook on one engine.
#[derive(Debug, Parser)]
#[command(name = "gateway", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve policies over HTTP (as `opa run --server`).
    Run(RunArgs),
    /// Run Gatekeeper test suites (as `gator verify`).
    Verify(VerifyArgs),
    /// Review Kubernetes objects against templates and constraints (as `gator test`).
    Test(TestArgs),
    /// Run OPA's test-case YAML (and Gatekeeper suites) and print the conformance table.
    Conformance(crate::commands::conformance::ConformanceArgs),
    /// List OPA's builtins: available in the engine, and how many cases of a corpus use each.
    Builtins(crate::commands::builtins::BuiltinsArgs),
}

/// Flags of `gateway verify`, as `gator verify` names them.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// Suite files or directories; `dir/...` recurses.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Run only tests and cases whose names match this regex (`test//case` for both).
    #[arg(short = 'r', long = "run", default_value = "")]
    pub run: String,
    /// Print every test and case, passing or not.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Flags of `gateway test`, as `gator test` names them.
#[derive(Debug, Args, Clone)]
pub struct TestArgs {
    /// A file or directory of templates, constraints and objects. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub filenames: Vec<std::path::PathBuf>,
    /// Output format; human-readable when absent.
    #[arg(short = 'o', long = "output", value_enum, ignore_case = true)]
    pub output: Option<crate::commands::test::Output>,
    /// Only show results of constraints that deny.
    #[arg(long)]
    pub deny_only: bool,
}

/// Flags of `gateway run`, named as `opa run` names them where OPA has them, so that
/// `gateway run -s -b DIR -a :8181` works as `opa run` does.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Bundles to serve, as `opa run -s -b PATH...` takes them: `.tar.gz` archives or
    /// directories; a lone `.rego`, `.json` or `.yaml` file is served as a bundle of that file.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Address to listen on; `:8181` is every interface, as in OPA.
    #[arg(short = 'a', long, default_value = ":8181")]
    pub addr: String,
    /// A bundle to serve: a `.tar.gz` archive or a directory. Repeatable.
    #[arg(short = 'b', long = "bundle", value_name = "PATH")]
    pub bundles: Vec<PathBuf>,
    /// Accepted for `opa run -s`: the gateway always runs as a server.
    #[arg(short = 's', long)]
    pub server: bool,
    /// Accepted for `opa run -w`: bundles and Gatekeeper files are always watched.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Parse modules without a declared version as Rego v0.
    #[arg(long)]
    pub v0_compatible: bool,
    /// Log level.
    #[arg(short = 'l', long, value_enum, default_value_t = LogLevel::Info)]
    pub log_level: LogLevel,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// A configuration file (YAML or JSON).
    #[arg(short = 'c', long)]
    pub config_file: Option<PathBuf>,
    /// Override a configuration value, e.g. `default_decision=/authz/allow`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// TLS certificate (PEM); with the key, the server speaks HTTPS.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// ConstraintTemplates and Constraints to enforce: YAML or JSON files or directories.
    /// Repeatable; reloaded when they change and on SIGHUP.
    #[arg(long = "gatekeeper", value_name = "PATH")]
    pub gatekeeper: Vec<PathBuf>,
    /// Kubernetes objects (or lists) for Gatekeeper's `data.inventory`. Repeatable.
    #[arg(long = "inventory", value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}
