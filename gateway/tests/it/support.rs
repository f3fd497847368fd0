//! Starting servers for tests: the gateway in-process on an ephemeral port, and real OPA as a
//! child process on a Unix socket, both stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use clap::Parser;
use gateway::app::App;
use gateway::bundle_loader::BundleLoader;
use gateway::cli::{Cli, Command as GatewayCommand};
use gateway::config::Config;

use crate::client::{self, Target};

/// The repository root (tests run with the crate as working directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A gateway serving on `127.0.0.1:<ephemeral>` inside this test process.
pub struct Gateway {
    pub target: Target,
    pub app: Arc<App>,
    /// The bundle loader; tests call `reload` where the server's watcher thread would.
    pub loader: std::sync::Mutex<BundleLoader>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    /// Starts `gateway run <args>` (without the watcher thread; tests reload explicitly).
    pub fn start(args: &[&str]) -> Gateway {
        Gateway::try_start(args).expect("the gateway starts")
    }

    /// Like [`Gateway::start`], or the error that stops `gateway run` before it listens.
    pub fn try_start(args: &[&str]) -> anyhow::Result<Gateway> {
        let cli = Cli::try_parse_from(["gateway", "run"].iter().chain(args.iter()).copied())
            .expect("valid arguments");
        let GatewayCommand::Run(run) = cli.command else {
            panic!("`gateway run` arguments expected");
        };
        let config = Config::from_args(&run).expect("valid config");
        let (app, loader) = gateway::build_app(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let server_app = app.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .thread_stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                bound_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("report addr");
                let shutdown = async {
                    let _ = stopped.await;
                };
                gateway::server::run(listener, server_app, None, shutdown)
                    .await
                    .expect("server");
            });
        });
        let addr = bound_rx.recv().expect("server address");
        Ok(Gateway {
            target: Target::Tcp(addr),
            app,
            loader: std::sync::Mutex::new(loader),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Like [`Gateway::start`], and every configured bundle must have activated.
    pub fn start_activated(args: &[&str]) -> Gateway {
        let gateway = Gateway::start(args);
        assert!(
            gateway.app.bundles.all_activated(),
            "bundles did not activate: {:?}",
            gateway.app.bundles.states()
        );
        gateway
    }

    pub fn send(&self, method: &str, path: &str, body: &str) -> client::Reply {
        client::send(&self.target, method, path, &[], body.as_bytes())
    }

    /// Re-reads changed bundles now; true when a new snapshot was activated.
    pub fn reload_bundles(&self) -> bool {
        self.loader
            .lock()
            .expect("loader")
            .reload(&self.app, false)
            .activated
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The real `opa` binary the Makefile installs, if present.
pub fn opa_binary() -> Option<PathBuf> {
    let path = std::env::var_os("OPA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/bin/opa"));
    path.exists().then_some(path)
}

/// Returns the OPA binary, or explains the skip; `make test` sets GATEWAY_REQUIRE_ORACLES so
/// that a missing oracle fails instead of skipping.
pub fn require_opa() -> Option<PathBuf> {
    let found = opa_binary();
    if found.is_none() {
        assert!(
            std::env::var_os("GATEWAY_REQUIRE_ORACLES").is_none(),
            "real OPA is required but missing: run `make tools`"
        );
        eprintln!("skipped: real OPA is not installed (make tools builds it)");
    }
    found
}

/// The real `gator` the Makefile installs, or a skip message (a failure when oracles are
/// required, as `make test` requires them).
pub fn require_gator() -> Option<PathBuf> {
    let path = std::env::var_os("GATOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/bin/gator"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("GATEWAY_REQUIRE_ORACLES").is_none(),
        "real gator is required but missing: run `make tools`"
    );
    eprintln!("skipped: real gator is not installed (make tools builds it)");
    None
}

/// Real `opa run --server` on a private Unix socket.
pub struct RealOpa {
    pub target: Target,
    child: Child,
    _dir: tempdir::TempDir,
}

impl RealOpa {
    pub fn start(binary: &Path, args: &[&str]) -> RealOpa {
        let dir = tempdir::TempDir::new("opa");
        let socket = dir.path().join("opa.sock");
        let child = Command::new(binary)
            .args(["run", "--server", "--log-level", "error", "--addr"])
            .arg(format!("unix://{}", socket.display()))
            .args(args)
            .current_dir(repo_root())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start opa");
        let target = Target::Unix(socket);
        let mut opa = RealOpa {
            target: target.clone(),
            child,
            _dir: dir,
        };
        for _ in 0..200 {
            if let Ok(Some(status)) = opa.child.try_wait() {
                panic!("opa exited with {status} before listening (args {args:?})");
            }
            if client::is_up(&target) {
                return opa;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("opa did not start listening within 10 s");
    }
}

impl Drop for RealOpa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed on drop (no extra dependency for this).
pub mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(prefix: &str) -> TempDir {
            let path = std::env::temp_dir().join(format!(
                "gateway-test-{prefix}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).expect("temp dir");
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
