//! Data writes over real HTTP, as kube-mgmt makes them: every `PUT`, `PATCH` and `DELETE`
//! under `/v1/data` is seen by the very next request of a policy that reads the data, on the
//! compiled evaluator, on regorus, and through the decision cache.

use crate::support::{Gateway, repo_root};

/// Reads `data.kubernetes` the way admission policies do: counts and looks up Pods.
const POLICY: &str = r#"package k8s

pods := count([1 | data.kubernetes.pods[_][_]])

app_of[name] := pod.metadata.labels.app if {
	some ns, name
	pod := data.kubernetes.pods[ns][name]
}

app := data.kubernetes.pods[input.ns][input.name].metadata.labels.app
"#;

/// `data.k8s.<rule>` for `input`, by POST, as a webhook asks: repeated inputs are what the
/// decision cache answers.
fn decide(gateway: &Gateway, rule: &str, input: &str) -> serde_json::Value {
    let reply = gateway.send(
        "POST",
        &format!("/v1/data/k8s/{rule}"),
        &format!(r#"{{"input":{input}}}"#),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["result"].clone()
}

fn pod(app: &str) -> String {
    format!(r#"{{"metadata":{{"labels":{{"app":"{app}"}}}},"spec":{{"containers":[]}}}}"#)
}

fn writes_are_seen_by_the_next_request(extra_args: &[&str]) {
    let bundle = repo_root().join("examples/rbac");
    let bundle = bundle.to_str().expect("utf-8 path");
    let mut args = vec!["--bundle", bundle];
    args.extend_from_slice(extra_args);
    let gateway = Gateway::start_activated(&args);
    assert_eq!(gateway.send("PUT", "/v1/policies/k8s", POLICY).status, 200);
    let pod_count = || decide(&gateway, "pods", "{}");
    let app = |ns: &str, name: &str| {
        decide(
            &gateway,
            "app",
            &format!(r#"{{"ns":"{ns}","name":"{name}"}}"#),
        )
    };
    assert_eq!(pod_count(), 0);

    // PUT: each new Pod counts at once, and its label is read, in two namespaces.
    for i in 0..6 {
        let (ns, name) = (format!("ns{}", i % 2), format!("p{i}"));
        let reply = gateway.send(
            "PUT",
            &format!("/v1/data/kubernetes/pods/{ns}/{name}"),
            &pod(&format!("app{i}")),
        );
        assert_eq!(reply.status, 204, "{}", reply.text());
        assert_eq!(pod_count(), i + 1, "after PUT {ns}/{name}");
        assert_eq!(app(&ns, &name), format!("app{i}"));
    }
    // PUT over an existing Pod replaces it.
    let reply = gateway.send("PUT", "/v1/data/kubernetes/pods/ns0/p0", &pod("replaced"));
    assert_eq!(reply.status, 204);
    assert_eq!(app("ns0", "p0"), "replaced");
    assert_eq!(pod_count(), 6);

    // PATCH: replace a label, add a Pod, remove another.
    let reply = gateway.send(
        "PATCH",
        "/v1/data/kubernetes/pods/ns1/p1",
        r#"[{"op":"replace","path":"/metadata/labels/app","value":"patched"}]"#,
    );
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert_eq!(app("ns1", "p1"), "patched");
    let reply = gateway.send(
        "PATCH",
        "/v1/data/kubernetes/pods",
        &format!(
            r#"[{{"op":"add","path":"/ns1/p9","value":{}}},{{"op":"remove","path":"/ns0/p2"}}]"#,
            pod("added")
        ),
    );
    assert_eq!(reply.status, 204, "{}", reply.text());
    assert_eq!(app("ns1", "p9"), "added");
    assert_eq!(app("ns0", "p2"), serde_json::Value::Null);
    assert_eq!(pod_count(), 6);

    // DELETE: a Pod, then a whole namespace.
    assert_eq!(
        gateway
            .send("DELETE", "/v1/data/kubernetes/pods/ns0/p4", "")
            .status,
        204
    );
    assert_eq!(pod_count(), 5);
    assert_eq!(app("ns0", "p4"), serde_json::Value::Null);
    assert_eq!(
        gateway
            .send("DELETE", "/v1/data/kubernetes/pods/ns1", "")
            .status,
        204
    );
    assert_eq!(pod_count(), 1);
    let apps = decide(&gateway, "app_of", "{}");
    assert_eq!(apps, serde_json::json!({"p0": "replaced"}));

    // Data where a rule is defined is still refused, and changes nothing.
    let reply = gateway.send("PUT", "/v1/data/k8s/pods", "7");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(
        reply
            .text()
            .contains("conflicting rule for data path k8s/pods found"),
        "{}",
        reply.text()
    );
    assert_eq!(pod_count(), 1);

    // The bundle's own policy still answers on the same snapshots.
    let reply = gateway.send(
        "POST",
        "/v1/data/rbac/allow",
        r#"{"input":{"user":"alice","action":"read","type":"dog"}}"#,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["result"], true);
}

#[test]
fn data_writes_are_seen_by_the_next_request() {
    writes_are_seen_by_the_next_request(&[]);
}

#[test]
fn data_writes_are_seen_by_the_next_request_on_regorus() {
    writes_are_seen_by_the_next_request(&["--set", "compiled_evaluator=false"]);
}

#[test]
fn data_writes_are_seen_by_the_next_request_without_the_decision_cache() {
    writes_are_seen_by_the_next_request(&["--set", "decision_cache.max_entries=0"]);
}
