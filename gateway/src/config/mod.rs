//! Turns flags and an optional config file into one validated [`Config`].
//!
//! Config keys follow OPA's where OPA has them (`default_decision`,
//! `server.decoding.max_length`, `server.decoding.gzip.max_length`); `--set key=value`
//! overrides the file. The merged tree is read into typed structs once ([`file`]), then
//! validated here.

mod file;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use rego_runtime::RegoVersion;
use rego_runtime::limits::DEFAULT_EVALUATION_TIMEOUT;
use rego_runtime::rego::DEFAULT_DECISION_CACHE_ENTRIES;
use serde_json::Value as Json;

use crate::cli::{LogFormat, LogLevel, RunArgs};
use crate::go_duration;
use crate::http::BodyLimits;

/// OPA's default decision for `POST /`.
pub const DEFAULT_DECISION: &str = "/system/main";
/// OPA's `server.decoding.max_length` default: 256 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 << 20;
/// OPA's `server.decoding.gzip.max_length` default: 512 MiB.
pub const DEFAULT_MAX_GZIP_BYTES: usize = 512 << 20;
/// How often local bundles are checked for changes.
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Everything `gateway run` needs, validated.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: String,
    pub bundles: Vec<PathBuf>,
    pub default_rego_version: RegoVersion,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    /// The data path `POST /` evaluates, e.g. `/system/main`.
    pub default_decision: String,
    pub evaluation_timeout: Duration,
    pub body_limits: BodyLimits,
    pub tls: Option<TlsFiles>,
    pub watch_interval: Duration,
    /// `--gatekeeper` paths: ConstraintTemplates and Constraints.
    pub gatekeeper: Vec<PathBuf>,
    /// `--inventory` paths: objects for Gatekeeper's `data.inventory`.
    pub inventory: Vec<PathBuf>,
    /// Decisions kept per snapshot for repeated inputs of deterministic policies; 0 is off.
    pub decision_cache_entries: usize,
    /// Whether the Rego engine runs policies on its compiled evaluator where it can (on by
    /// default; off, regorus evaluates everything).
    pub compiled_evaluator: bool,
    /// One line per config key the gateway did not read, logged at start.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    /// Builds the configuration from `gateway run`'s flags and the file they name.
    ///
    /// # Errors
    /// An unreadable or malformed config file, a bad `--set`, or an invalid value.
    pub fn from_args(args: &RunArgs) -> anyhow::Result<Config> {
        let mut tree = match &args.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                yaml_serde::from_str::<Json>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => Json::Object(Default::default()),
        };
        for assignment in &args.overrides {
            let (key, value) = assignment
                .split_once('=')
                .with_context(|| format!("--set {assignment}: expected KEY=VALUE"))?;
            set_path(&mut tree, key, parse_scalar(value))?;
        }

        let tls = match (&args.tls_cert_file, &args.tls_private_key_file) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            _ => bail!("--tls-cert-file and --tls-private-key-file must be given together"),
        };

        let (file, warnings) = file::read(tree)?;
        let default_decision = match file.default_decision {
            None => DEFAULT_DECISION.to_string(),
            Some(path) => format!("/{}", path.trim_matches('/').replace('.', "/")),
        };
        let evaluation_timeout = match &file.evaluation_timeout {
            None => DEFAULT_EVALUATION_TIMEOUT,
            Some(text) => positive_duration("evaluation_timeout", text)?,
        };
        let decision_cache_entries = match file.decision_cache.max_entries {
            None => DEFAULT_DECISION_CACHE_ENTRIES,
            Some(n) => usize::try_from(n)
                .with_context(|| format!("decision_cache.max_entries: {n} is too large"))?,
        };
        let body_limits = BodyLimits {
            max_bytes: size(
                "server.decoding.max_length",
                file.server.decoding.max_length,
                DEFAULT_MAX_BODY_BYTES,
            )?,
            max_gzip_bytes: size(
                "server.decoding.gzip.max_length",
                file.server.decoding.gzip.max_length,
                DEFAULT_MAX_GZIP_BYTES,
            )?,
        };

        Ok(Config {
            addr: listen_address(&args.addr),
            bundles: args.bundles.iter().chain(&args.paths).cloned().collect(),
            default_rego_version: if args.v0_compatible {
                RegoVersion::V0
            } else {
                RegoVersion::V1
            },
            log_level: args.log_level,
            log_format: args.log_format,
            default_decision,
            evaluation_timeout,
            body_limits,
            tls,
            watch_interval: DEFAULT_WATCH_INTERVAL,
            gatekeeper: args.gatekeeper.clone(),
            inventory: args.inventory.clone(),
            decision_cache_entries,
            compiled_evaluator: file.compiled_evaluator.unwrap_or(true),
            warnings,
        })
    }
}

fn set_path(tree: &mut Json, dotted: &str, value: Json) -> anyhow::Result<()> {
    let mut node = tree;
    let keys: Vec<&str> = dotted.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        let Json::Object(map) = node else {
            bail!("--set {dotted}: {} is not an object", keys[..i].join("."));
        };
        if i + 1 == keys.len() {
            map.insert((*key).to_string(), value);
            return Ok(());
        }
        node = map
            .entry((*key).to_string())
            .or_insert_with(|| Json::Object(Default::default()));
    }
    Ok(())
}

/// `--set` values are YAML scalars: numbers and booleans typed, anything else a string.
fn parse_scalar(text: &str) -> Json {
    yaml_serde::from_str::<Json>(text)
        .ok()
        .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())
        .unwrap_or_else(|| Json::String(text.to_string()))
}

fn size(key: &str, value: Option<u64>, default: usize) -> anyhow::Result<usize> {
    match value {
        None => Ok(default),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("{key} must be a positive number of bytes, got {n}")),
    }
}

/// A duration setting, in Go's syntax as OPA's configuration takes it; zero is refused.
fn positive_duration(key: &str, text: &str) -> anyhow::Result<Duration> {
    match go_duration::parse(text) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => bail!("{key} must be longer than zero, got {text:?}"),
        Err(error) => bail!("{key}: {error} (a duration is written like 500ms, 5s or 1m30s)"),
    }
}

/// OPA's `--addr :8181` means every interface, as Go's `net.Listen` reads it.
fn listen_address(addr: &str) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> anyhow::Result<Config> {
        let cli =
            crate::cli::Cli::try_parse_from(["gateway", "run"].iter().chain(args.iter()).copied())?;
        let crate::cli::Command::Run(run) = cli.command else {
            anyhow::bail!("not a run command");
        };
        Config::from_args(&run)
    }

    #[test]
    fn defaults_are_opas() {
        let config = config(&[]).expect("config");
        assert_eq!(config.addr, "0.0.0.0:8181");
        assert_eq!(config.default_decision, "/system/main");
        assert_eq!(config.body_limits.max_bytes, 256 << 20);
        assert_eq!(config.evaluation_timeout, Duration::from_secs(5));
        assert!(config.compiled_evaluator);
    }

    #[test]
    fn set_overrides_values() {
        let config = config(&[
            "--set",
            "default_decision=authz/allow",
            "--set",
            "server.decoding.max_length=1024",
            "--set",
            "evaluation_timeout=250ms",
            "--set",
            "compiled_evaluator=false",
        ])
        .expect("config");
        assert!(!config.compiled_evaluator);
        assert_eq!(config.default_decision, "/authz/allow");
        assert_eq!(config.body_limits.max_bytes, 1024);
        assert_eq!(config.evaluation_timeout, Duration::from_millis(250));
    }

    #[test]
    fn bad_values_are_named() {
        let error = config(&["--set", "server.decoding.max_length=lots"]).expect_err("bad size");
        assert!(error.to_string().contains("server.decoding.max_length"));
        let error = config(&["--set", "server.decoding.max_length=0"]).expect_err("zero size");
        assert!(
            error
                .to_string()
                .contains("must be a positive number of bytes")
        );
        let error = config(&["--set", "compiled_evaluator=sometimes"]).expect_err("bad switch");
        assert_eq!(
            error.to_string(),
            "compiled_evaluator: invalid type: string \"sometimes\", expected a boolean"
        );
        assert!(config(&["--tls-cert-file", "x.pem"]).is_err());
        let error = config(&["--set", "evaluation_timeout=abc"]).expect_err("bad duration");
        assert_eq!(
            error.to_string(),
            "evaluation_timeout: time: invalid duration \"abc\" (a duration is written like 500ms, 5s or 1m30s)"
        );
        let error = config(&["--set", "evaluation_timeout=0s"]).expect_err("zero");
        assert!(error.to_string().contains("longer than zero"), "{error}");
    }

    #[test]
    fn unread_keys_become_warnings() {
        let config = config(&[
            "--set",
            "decision_logs.console=true",
            "--set",
            "evalution_timeout=1s",
        ])
        .expect("config");
        assert_eq!(config.warnings.len(), 2, "{:?}", config.warnings);
        assert!(config.warnings[1].contains("did you mean evaluation_timeout?"));
    }

    #[test]
    fn opa_addresses_and_durations_are_understood() {
        assert_eq!(
            config(&["--addr", ":8282"]).expect("addr").addr,
            "0.0.0.0:8282"
        );
        assert_eq!(
            config(&["-a", "127.0.0.1:1"]).expect("addr").addr,
            "127.0.0.1:1"
        );
        let config = config(&["--set", "evaluation_timeout=1m30s"]).expect("duration");
        assert_eq!(config.evaluation_timeout, Duration::from_secs(90));
    }
}
