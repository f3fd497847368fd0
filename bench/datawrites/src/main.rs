//! Sequential data writes, as kube-mgmt makes them when it starts: one
//! `PUT /v1/data/kubernetes/pods/<namespace>/<name>` per Pod of the cluster, each a
//! realistic Pod of a few KB (labels, annotations, owner references, two containers with
//! resources and probes, volumes, status), one after another over one keep-alive connection.
//!
//! Usage: `datawrites ADDR COUNT`; prints
//! `writes_per_s p50_ms p99_ms max_ms writes failures mean_body_bytes stored`, where `stored`
//! is how many Pods `GET /v1/data/kubernetes/pods` lists afterwards (each write landed when it
//! equals `writes`). Exits 1 when a write failed or a Pod is missing.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Namespaces the Pods are spread over, as a cluster's workloads are.
const NAMESPACES: usize = 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(count)) = (
        args.first(),
        args.get(1).and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: datawrites ADDR COUNT");
        return ExitCode::from(2);
    };
    let mut body_bytes = 0;
    let requests: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            let (namespace, name) = pod_name(i);
            let body = pod(i).to_string();
            body_bytes += body.len();
            put(
                addr,
                &format!("/v1/data/kubernetes/pods/{namespace}/{name}"),
                &body,
            )
        })
        .collect();
    let mean_body = body_bytes / count.max(1);
    match run(addr, &requests) {
        Ok((latencies, failures, elapsed)) => {
            let stored = stored_pods(addr).unwrap_or_else(|e| {
                eprintln!("datawrites: reading the Pods back: {e}");
                0
            });
            let mut sorted = latencies.clone();
            sorted.sort_unstable();
            println!(
                "{:.1} {:.3} {:.3} {:.3} {} {} {} {}",
                latencies.len() as f64 / elapsed.as_secs_f64(),
                quantile_ms(&sorted, 0.5),
                quantile_ms(&sorted, 0.99),
                quantile_ms(&sorted, 1.0),
                latencies.len(),
                failures,
                mean_body,
                stored
            );
            if failures > 0 || stored != count {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datawrites: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends every request in order, each after the previous answer: the latencies of the
/// successful ones, how many failed, and the time all of them took.
fn run(addr: &str, requests: &[Vec<u8>]) -> io::Result<(Vec<Duration>, usize, Duration)> {
    let mut stream = connect(addr)?;
    let mut latencies = Vec::with_capacity(requests.len());
    let mut failures = 0;
    let start = Instant::now();
    for request in requests {
        let sent = Instant::now();
        match exchange(&mut stream, request)? {
            (200 | 204, _) => latencies.push(sent.elapsed()),
            (status, body) => {
                if failures == 0 {
                    eprintln!(
                        "datawrites: status {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                failures += 1;
            }
        }
    }
    Ok((latencies, failures, start.elapsed()))
}

/// How many Pods the server holds under `data.kubernetes.pods`, over all namespaces.
fn stored_pods(addr: &str) -> io::Result<usize> {
    let mut stream = connect(addr)?;
    let request = format!("GET /v1/data/kubernetes/pods HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let (status, body) = exchange(&mut stream, request.as_bytes())?;
    if status != 200 {
        return Err(io::Error::other(format!("status {status}")));
    }
    let answer: Value = serde_json::from_slice(&body).map_err(io::Error::other)?;
    Ok(answer["result"].as_object().map_or(0, |namespaces| {
        namespaces
            .values()
            .filter_map(Value::as_object)
            .map(|pods| pods.len())
            .sum()
    }))
}

/// The `q` quantile of `sorted` in milliseconds (nearest rank); 0 when there is none.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(at - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn put(addr: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn connect(addr: &str) -> io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    Ok(BufReader::new(stream))
}

/// Sends one request and reads its response (a `Content-Length` body, a chunked one, or
/// none): the status and the body.
fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    stream.get_mut().write_all(request)?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP response: {line:?}")))?;
    let mut length = 0;
    let mut chunked = false;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::Error::other("connection closed in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().map_err(io::Error::other)?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if !chunked {
        body.resize(length, 0);
        stream.read_exact(&mut body)?;
        return Ok((status, body));
    }
    loop {
        line.clear();
        stream.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim_end(), 16).map_err(io::Error::other)?;
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..])?;
        line.clear();
        stream.read_line(&mut line)?;
        if size == 0 {
            return Ok((status, body));
        }
    }
}

/// The namespace and name of the `i`th Pod.
fn pod_name(i: usize) -> (String, String) {
    let namespace = format!("team-{:02}", i % NAMESPACES);
    let name = format!("{}-{}-{:05x}", app(i), template_hash(i), i * 7919 % 0xfffff);
    (namespace, name)
}

fn app(i: usize) -> String {
    format!("service-{:03}", i / NAMESPACES % 50)
}

fn template_hash(i: usize) -> String {
    format!(
        "{:010x}",
        (i / NAMESPACES % 50).wrapping_mul(2_654_435_761) % 0xff_ffff_ffff
    )
}

/// `digits` hex digits that look random (as digests and ids do), the same for the same seed.
fn hex(seed: &str, digits: usize) -> String {
    // FNV-1a of the seed, then splitmix64 for as many words as needed.
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut text = String::with_capacity(digits + 16);
    while text.len() < digits {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        text.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    text.truncate(digits);
    text
}

/// A UUID's text, from `seed`.
fn uuid(seed: &str) -> String {
    let h = hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The `i`th Pod, as the API server returns it (without `metadata.managedFields`).
fn pod(i: usize) -> Value {
    let (namespace, name) = pod_name(i);
    let app = app(i);
    let hash = template_hash(i);
    let uid = uuid(&format!("pod {i}"));
    let ip = format!(
        "10.{}.{}.{}",
        32 + i % NAMESPACES,
        i / 250 % 250,
        i % 250 + 2
    );
    let node = format!("node-pool-a-{:02}", i % 12);
    let started = format!(
        "2026-12-0{}T0{}:{:02}:{:02}Z",
        1 + i % 7,
        i % 10,
        i % 60,
        i * 7 % 60
    );
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastProbeTime": null, "lastTransitionTime": started});
    let container_status = |name: &str, image: &str| {
        json!({
            "name": name, "ready": true, "restartCount": i % 3, "started": true,
            "image": image, "imageID": format!("{image}@sha256:{}", hex(&format!("image {name}"), 64)),
            "containerID": format!("containerd://{}", hex(&format!("container {name} {i}"), 64)),
            "lastState": {}, "state": {"running": {"startedAt": started}}
        })
    };
    let image = format!(
        "registry.example.com/{namespace}/{app}:1.{}.{}",
        i % 9,
        i % 17
    );
    let sidecar_image = "registry.example.com/platform/envoy-proxy:1.31.2";
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": format!("{app}-{hash}-"),
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": (1_000_000 + i * 37).to_string(),
            "creationTimestamp": started,
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/instance": format!("{app}-prod"),
                "app.kubernetes.io/part-of": namespace,
                "app.kubernetes.io/managed-by": "helm",
                "pod-template-hash": hash,
                "tier": if i.is_multiple_of(3) { "frontend" } else { "backend" },
                "version": format!("v1.{}", i % 9),
                "team": namespace,
            },
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
                "prometheus.io/path": "/metrics",
                "kubectl.kubernetes.io/restartedAt": started,
                "checksum/config": hex(&format!("config {i}"), 64),
                "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": format!("{app}-{hash}"),
                "uid": uuid(&format!("replicaset {app}")),
                "controller": true,
                "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["--config=/etc/app/config.yaml", "--log-level=info", "--port=8080"],
                    "ports": [
                        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
                    ],
                    "env": [
                        {"name": "APP_ENV", "value": "production"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
                        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": format!("{app}-db"), "key": "url"}}}
                    ],
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "1", "memory": "512Mi"}
                    },
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                        "initialDelaySeconds": 10, "timeoutSeconds": 2, "periodSeconds": 10,
                        "successThreshold": 1, "failureThreshold": 3
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"},
                        "timeoutSeconds": 1, "periodSeconds": 5,
                        "successThreshold": 1, "failureThreshold": 3
                    },
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/app", "readOnly": true},
                        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
                    ],
                    "securityContext": {
                        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                        "runAsNonRoot": true, "runAsUser": 10001,
                        "capabilities": {"drop": ["ALL"]}
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                },
                {
                    "name": "proxy",
                    "image": sidecar_image,
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["proxy", "sidecar", "--concurrency", "2"],
                    "ports": [{"name": "http-envoy-prom", "containerPort": 15090, "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"}
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
                        "initialDelaySeconds": 1, "timeoutSeconds": 3, "periodSeconds": 2,
                        "successThreshold": 1, "failureThreshold": 30
                    },
                    "volumeMounts": [
                        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}
                    ],
                    "securityContext": {"runAsUser": 1337, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}},
                {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                ]}}
            ],
            "serviceAccountName": app,
            "serviceAccount": app,
            "nodeName": node,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]
        },
        "status": {
            "phase": "Running",
            "conditions": [
                condition("PodReadyToStartContainers"),
                condition("Initialized"),
                condition("Ready"),
                condition("ContainersReady"),
                condition("PodScheduled")
            ],
            "hostIP": format!("192.168.{}.{}", i % 12, 10 + i % 12),
            "hostIPs": [{"ip": format!("192.168.{}.{}", i % 12, 10 + i % 12)}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started,
            "containerStatuses": [
                container_status("app", &image),
                container_status("proxy", sidecar_image)
            ],
            "qosClass": "Burstable"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_are_a_few_kb_and_distinct() {
        let bodies: Vec<String> = (0..2000).map(|i| pod(i).to_string()).collect();
        let mean = bodies.iter().map(String::len).sum::<usize>() / bodies.len();
        assert!((3000..6000).contains(&mean), "mean Pod {mean} bytes");
        let names: std::collections::BTreeSet<_> = (0..2000).map(pod_name).collect();
        assert_eq!(names.len(), 2000);
        assert_eq!(pod(7)["metadata"]["name"], pod_name(7).1);
    }
}
