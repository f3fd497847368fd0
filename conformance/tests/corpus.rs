//! The project's corpus (`conformance/cases`) as one named trial per case per target:
//! - `rego::<case>`: the gateway's Rego engine in-process, judged against the known failures;
//! - `regorus::<case>`: the same engine with its compiled evaluator off (regorus alone), with
//!   its own known failures (entries with `targets: [regorus]`), so that the two Rego
//!   evaluators diverging on a case fails the run;
//! - `opa::<case>`: real `opa run --server` through the HTTP target, which checks both the
//!   corpus and the runner (real OPA must pass every case).
//!
//! Filter as with any test: `cargo test -p conformance --test corpus -- strings/sprintf`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use conformance::case::LoadedCase;
use conformance::known_failures::KnownFailures;
use conformance::runner::{Status, run_case};
use conformance::targets::{HttpTarget, RegoTarget, Target};
use libtest_mimic::{Arguments, Failed, Trial};

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Real OPA on a private Unix socket, killed when dropped.
struct RealOpa {
    child: Child,
    socket: PathBuf,
}

impl RealOpa {
    fn start(binary: &Path, v0: bool) -> RealOpa {
        let socket = std::env::temp_dir().join(format!(
            "conformance-opa-{}-{}.sock",
            std::process::id(),
            if v0 { "v0" } else { "v1" }
        ));
        let _ = std::fs::remove_file(&socket);
        let mut command = Command::new(binary);
        command
            .args(["run", "--server", "--log-level", "error", "--addr"])
            .arg(format!("unix://{}", socket.display()));
        if v0 {
            command.arg("--v0-compatible");
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start opa");
        for _ in 0..200 {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        RealOpa { child, socket }
    }

    fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }
}

impl Drop for RealOpa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn opa_binary() -> Option<PathBuf> {
    let path = std::env::var_os("OPA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../.tools/bin/opa"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("GATEWAY_REQUIRE_ORACLES").is_none(),
        "real OPA is required but missing: run `make tools`"
    );
    eprintln!("note: real OPA is not installed, so the opa:: trials are left out (make tools)");
    None
}

fn trial(
    name: String,
    case: Arc<LoadedCase>,
    target: Arc<dyn Target>,
    known: Arc<KnownFailures>,
) -> Trial {
    Trial::test(name, move || {
        let result = run_case(&case, &*target, &known);
        match result.status {
            Status::Passed | Status::Known(_) | Status::Skipped(_) => Ok(()),
            Status::Failed {
                reason,
                expected,
                actual,
            } => Err(Failed::from(format!(
                "{reason}\n  expected: {expected}\n  actual:   {actual}\n  file:     conformance/cases/{}",
                case.file
            ))),
            Status::Fixed(reason) => Err(Failed::from(format!(
                "passes, but known-failures.yaml lists it ({reason}): remove the entry"
            ))),
        }
    })
}

fn main() {
    let args = Arguments::from_args();
    let cases = conformance::load::load(&crate_dir().join("cases")).expect("corpus loads");
    assert!(
        cases.len() >= 400,
        "the corpus has {} cases, fewer than 400",
        cases.len()
    );
    let known = Arc::new(
        KnownFailures::load(&crate_dir().join("known-failures.yaml")).expect("known failures"),
    );
    let none = Arc::new(KnownFailures::default());

    let mut trials: Vec<Trial> = Vec::new();
    let cases: Vec<Arc<LoadedCase>> = cases.into_iter().map(Arc::new).collect();
    for target in [RegoTarget::default(), RegoTarget::regorus_only()] {
        let target: Arc<dyn Target> = Arc::new(target);
        for case in &cases {
            trials.push(trial(
                format!("{}::{}", target.name(), case.name()),
                case.clone(),
                target.clone(),
                known.clone(),
            ));
        }
    }
    // Real OPA is started only when its trials are selected (not for `--list`, not filtered out).
    let servers;
    let wants_opa = !args.list
        && args
            .filter
            .as_deref()
            .is_none_or(|f| f.starts_with("opa") || !f.contains("::"));
    if let Some(binary) = opa_binary().filter(|_| wants_opa) {
        let v1 = RealOpa::start(&binary, false);
        let v0 = RealOpa::start(&binary, true);
        let opa: Arc<dyn Target> =
            Arc::new(HttpTarget::named("opa", &v1.address(), Some(&v0.address())));
        for case in &cases {
            trials.push(trial(
                format!("opa::{}", case.name()),
                case.clone(),
                opa.clone(),
                none.clone(),
            ));
        }
        servers = Some((v1, v0));
    } else {
        servers = None;
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // `exit` skips destructors: stop real OPA first.
    drop(servers);
    conclusion.exit();
}
