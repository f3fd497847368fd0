//! `gateway`: parses the command line and runs the chosen command.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::Parser;
use gateway::cli::{Cli, Command, RunArgs};
use gateway::config::Config;
use gateway::{bundle_loader, logging, server, tls};
use tokio::signal::unix::{Signal, SignalKind, signal};

#[allow(
    unsafe_code,
    reason = "set_var before any thread exists, the one sound place to set it"
)]
fn main() -> ExitCode {
    // Errors inside the engine are built (and mostly dropped) on the request path; with
    // RUST_BACKTRACE=1 each would capture a backtrace. Library backtraces stay off unless
    // asked for by name; panics still print theirs.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first statement of `main`, before any other thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        // These evaluate on the calling thread, which must have an evaluation's stack.
        Command::Verify(args) => {
            return on_evaluation_stack(move || gateway::commands::verify::main(&args));
        }
        Command::Test(args) => {
            return on_evaluation_stack(move || gateway::commands::test::main(&args));
        }
        Command::Conformance(args) => {
            return on_evaluation_stack(move || gateway::commands::conformance::main(&args));
        }
        Command::Builtins(args) => return gateway::commands::builtins::main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `command` on a thread with the stack evaluations need (the main thread has 8 MiB).
fn on_evaluation_stack(command: impl FnOnce() -> ExitCode + Send + 'static) -> ExitCode {
    std::thread::Builder::new()
        .name("main".to_string())
        .stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
        .spawn(command)
        .map_or(ExitCode::FAILURE, |thread| {
            thread.join().unwrap_or(ExitCode::FAILURE)
        })
}

fn run(args: &RunArgs) -> anyhow::Result<()> {
    let config = Config::from_args(args)?;
    logging::init(config.log_level, config.log_format);
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Requests are evaluated on the runtime's threads.
        .thread_stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        // Handlers first: a SIGHUP or SIGTERM that arrives once the port is open must reload
        // or stop the server, never kill it by the signal's default action.
        let hangups = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        let terminate =
            signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let addr = config.addr.clone();
        let watch_interval = config.watch_interval;
        // Everything configured loads before the port opens: a server that listened without
        // its policies would answer as if there were none.
        let (app, loader) = gateway::build_app(config)?;
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "server started");

        let reload_all = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = bundle_loader::spawn_watcher(
            app.clone(),
            loader,
            watch_interval,
            reload_all.clone(),
            stop.clone(),
        );
        tokio::spawn(reload_on_sighup(hangups, reload_all));
        server::run(listener, app, tls, shutdown_signal(terminate)).await?;
        stop.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        tracing::info!("server stopped");
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal(mut terminate: Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// Raises `reload_all` on every SIGHUP.
async fn reload_on_sighup(mut hangups: Signal, reload_all: Arc<AtomicBool>) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading every bundle");
        reload_all.store(true, Ordering::Relaxed);
    }
}
