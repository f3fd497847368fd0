//! The `gateway` binary as users run it: flags, SIGHUP reloads, TLS, clean shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::client::{self, Target};
use crate::support::tempdir::TempDir;

/// `gateway run <args>` on an ephemeral port; the address is read from its first log line.
struct Running {
    child: Child,
    addr: String,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(["run", "--addr", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start gateway");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the gateway exited before logging its address")
                .expect("read log");
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(addr) = entry["fields"]["addr"].as_str() {
                break addr.to_string();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Running { child, addr }
    }

    fn target(&self) -> Target {
        Target::Tcp(self.addr.parse().expect("socket address"))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn decide(target: &Target) -> String {
    client::send(
        target,
        "POST",
        "/v1/data/app/allow",
        &[],
        b"{\"input\": {\"user\": \"ann\"}}",
    )
    .text()
}

#[test]
fn sighup_reloads_bundles_and_sigterm_stops_cleanly() {
    let dir = TempDir::new("cli-bundle");
    let policy = dir.path().join("policy.rego");
    std::fs::write(&policy, "package app\n\nallow := false\n").expect("write");
    let mut running = Running::start(&["--bundle", &dir.path().to_string_lossy()]);
    let target = running.target();
    assert_eq!(decide(&target), "{\"result\":false}\n");

    std::fs::write(&policy, "package app\n\nallow := true\n").expect("write");
    running.signal("HUP");
    let mut reloaded = false;
    for _ in 0..50 {
        if decide(&target) == "{\"result\":true}\n" {
            reloaded = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reloaded, "the bundle was not reloaded after SIGHUP");

    running.signal("TERM");
    let status = running.child.wait().expect("wait");
    assert!(status.success(), "exit status {status}");
}

#[test]
fn bad_flags_are_refused_with_a_message() {
    for (args, expected) in [
        (
            vec!["run", "--set", "evaluation_timeout=never"],
            "invalid duration",
        ),
        (
            vec!["run", "--tls-cert-file", "x.pem"],
            "must be given together",
        ),
        (
            vec!["run", "--addr", "256.0.0.1:1"],
            "listening on 256.0.0.1:1",
        ),
        (
            vec!["run", "--config-file", "/no/such/file.yaml"],
            "reading config file",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .args(&args)
            .output()
            .expect("run gateway");
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn serves_https_with_the_given_certificate() {
    let dir = TempDir::new("tls");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: openssl is not available to make a test certificate");
        return;
    }
    let running = Running::start(&[
        "--tls-cert-file",
        &cert.to_string_lossy(),
        "--tls-private-key-file",
        &key.to_string_lossy(),
    ]);
    let output = Command::new("curl")
        .args(["-s", "--cacert"])
        .arg(&cert)
        .arg(format!("https://{}/health", running.addr))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "{}\n");
    // Plain HTTP on the TLS port is not served.
    let plain = client::send(&running.target(), "GET", "/health", &[], b"");
    assert_ne!(plain.status, 200);
}
