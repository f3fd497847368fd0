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
fn a_sighup_as_soon_as_the_port_opens_reloads_instead_of_killing_it() {
    // The port opens before the bundles are loaded; a SIGHUP that arrives in between must
    // find its handler installed, or its default action (terminate) kills the server.
    let dir = TempDir::new("cli-early-hup");
    std::fs::write(
        dir.path().join("policy.rego"),
        "package app\n\nallow := true\n",
    )
    .expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["run", "--addr", &addr, "--log-level", "error", "--bundle"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gateway");
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "exited early"
        );
    }
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let target = Target::Tcp(addr.parse().expect("address"));
    let mut answer = String::new();
    for _ in 0..50 {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        answer = decide(&target);
        if answer == "{\"result\":true}\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let exited = child.try_wait().expect("try_wait");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        exited.is_none(),
        "the gateway died of an early SIGHUP: {exited:?}"
    );
    assert_eq!(answer, "{\"result\":true}\n");
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
            vec!["run", "--set", "compiled_evaluator=maybe"],
            "compiled_evaluator: invalid type: string \"maybe\", expected a boolean",
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

#[test]
fn conformance_runs_any_case_directory_and_fails_on_a_wrong_case() {
    let dir = TempDir::new("cases");
    let cases = dir.path().join("v1/demo");
    std::fs::create_dir_all(&cases).expect("mkdir");
    std::fs::write(
        cases.join("demo.yaml"),
        "cases:\n- note: demo/right\n  query: data.test.p = x\n  modules: [\"package test\\np := 1 + 1\\n\"]\n  want_result: [{x: 2}]\n\
         - note: demo/wrong\n  query: data.test.p = x\n  modules: [\"package test\\np := 3\\n\"]\n  want_result: [{x: 4}]\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("conformance")
            .args(extra)
            .arg(dir.path())
            .output()
            .expect("run conformance")
    };
    let output = run(&["--target", "all", "--show-failures"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "a failing case must fail the run:\n{stdout}"
    );
    assert!(
        stdout.contains("FAIL [rego] v1/demo/demo/wrong"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL [http] v1/demo/demo/wrong"),
        "{stdout}"
    );
    assert!(stdout.contains("expected: [{\"x\":4}]"), "{stdout}");

    // A known failure keeps the run green and is reported as known.
    let known = dir.path().join("known.yaml");
    std::fs::write(
        &known,
        "- case: v1/demo/demo/wrong\n  reason: the case is wrong on purpose\n",
    )
    .expect("write");
    let output = run(&[
        "--known-failures",
        &known.to_string_lossy(),
        "--format",
        "json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    assert_eq!(report["totals"][0]["passed"], 1);
    assert_eq!(report["totals"][0]["known"], 1);

    let output = run(&["--format", "junit"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("<testsuites>"));
}

/// Writes `cases.yaml` of OPA test cases into `dir/v1/demo`.
fn write_cases(dir: &std::path::Path, cases: &str) {
    let folder = dir.join("v1/demo");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("cases.yaml"), cases).expect("write cases");
}

#[test]
fn conformance_over_http_leaves_what_a_live_server_holds_alone() {
    let running = Running::start(&[]);
    let target = running.target();
    let user_policy = "package users\n\nallow if input.user == \"ann\"\n";
    let put = client::send(
        &target,
        "PUT",
        "/v1/policies/user-policy",
        &[],
        user_policy.as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    let put = client::send(&target, "PUT", "/v1/data/userdata", &[], b"{\"a\": [1, 2]}");
    assert_eq!(put.status, 204, "{}", put.text());
    let snapshot = || {
        [
            "/v1/policies",
            "/v1/policies/user-policy",
            "/v1/data/userdata",
        ]
        .map(|path| client::send(&target, "GET", path, &[], b"").body)
    };
    let before = snapshot();

    // One case the server has room for; one whose data, one whose package, and one whose
    // whole-data read would meet what the user put there.
    let dir = TempDir::new("conformance-live");
    write_cases(
        dir.path(),
        "cases:\n\
         - note: free\n  query: data.test.p = x\n  modules: [\"package test\\np := data.lib.k + 1\\n\"]\n  data: {lib: {k: 1}}\n  want_result: [{x: 2}]\n\
         - note: user data\n  query: data.userdata.a = x\n  data: {userdata: {a: 3}}\n  want_result: [{x: 3}]\n\
         - note: user package\n  query: data.users.allow = x\n  modules: [\"package users\\nallow := 1\\n\"]\n  want_result: [{x: 1}]\n\
         - note: whole data\n  query: data = x\n  want_result: [{x: {}}]\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["conformance", "--format", "json", "--target"])
        .arg(format!("http={}", running.addr))
        .arg(dir.path())
        .output()
        .expect("run conformance");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    let status = |note: &str| {
        let case = report["cases"]
            .as_array()
            .and_then(|cases| {
                cases
                    .iter()
                    .find(|c| c["name"] == format!("v1/demo/{note}"))
            })
            .unwrap_or_else(|| panic!("no case {note} in {stdout}"));
        (
            case["status"].as_str().unwrap_or_default().to_string(),
            case["detail"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(status("free").0, "passed", "{stdout}");
    assert_eq!(
        status("user data"),
        (
            "skipped".to_string(),
            "the target already holds data.userdata".to_string()
        )
    );
    assert_eq!(
        status("user package"),
        (
            "skipped".to_string(),
            "the target already holds data.users (policy user-policy)".to_string()
        )
    );
    assert_eq!(status("whole data").0, "skipped", "{stdout}");

    // Byte for byte what the user had, and nothing the run wrote is left.
    assert_eq!(snapshot(), before);
    let data = client::send(&target, "GET", "/v1/data", &[], b"").json();
    assert_eq!(
        data["result"],
        serde_json::json!({"userdata": {"a": [1, 2]}, "users": {}})
    );
}

#[test]
fn conformance_finds_the_known_failures_beside_the_cases() {
    let dir = TempDir::new("conformance-known");
    let cases = dir.path().join("cases");
    write_cases(
        &cases,
        "cases:\n- note: right\n  query: x = 1\n  want_result: [{x: 1}]\n\
         - note: wrong\n  query: x = 1\n  want_result: [{x: 2}]\n",
    );
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("conformance")
            .args(extra)
            .arg(&cases)
            .output()
            .expect("run conformance")
    };
    assert!(
        !run(&[]).status.success(),
        "without a list the wrong case fails the run"
    );

    // Beside the corpus directory, as conformance/known-failures.yaml is.
    let beside = dir.path().join("known-failures.yaml");
    std::fs::write(
        &beside,
        "- case: v1/demo/wrong\n  reason: the case is wrong on purpose\n",
    )
    .expect("write");
    let output = run(&["--format", "json"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json report");
    assert_eq!(report["totals"][0]["passed"], 1, "{stdout}");
    assert_eq!(report["totals"][0]["known"], 1, "{stdout}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("known-failures.yaml (1 entries)"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Inside the corpus directory it comes first; the flag overrides both.
    std::fs::write(cases.join("known-failures.yaml"), "[]\n").expect("write");
    assert!(!run(&[]).status.success());
    let output = run(&["--known-failures", &beside.to_string_lossy()]);
    assert!(output.status.success());
    let output = run(&["--known-failures", "no-such-list.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--known-failures no-such-list.yaml: no such file"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn conformance_passes_on_the_projects_corpus_as_the_readme_shows() {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("conformance")
        .arg(crate::support::repo_root().join("conformance/cases"))
        .output()
        .expect("run conformance");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("known-failures.yaml ("),
        "the corpus's list is found by itself:\n{stderr}"
    );
    // regorus prints warnings of its own ("could not schedule all statements", "`if` will be
    // treated as identifier"); none of them may reach the user.
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn builtins_lists_every_opa_builtin() {
    let output = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["builtins", "--format", "json", "--corpus"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/cases"))
        .output()
        .expect("run builtins");
    assert!(output.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(rows.len(), 206);
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .cloned()
            .expect(name)
    };
    for builtin in [
        "io.jwt.decode",
        "time.now_ns",
        "http.send",
        "json.match_schema",
    ] {
        for field in ["compiled", "regorus", "table"] {
            assert_eq!(row(builtin)[field], true, "{builtin} {field}");
        }
    }
    assert!(row("sprintf")["corpus_cases"].as_u64().unwrap_or(0) > 5);
}
