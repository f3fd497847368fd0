//! Gatekeeper's webhook and management API over real HTTP: AdmissionReviews for CREATE,
//! UPDATE and DELETE of namespaced and cluster-scoped objects, bad templates, bad
//! constraints and bad reviews, inventory sync, audit, metrics and file reloads.

use serde_json::{Value, json};

use crate::client::{self, Reply};
use crate::support::Gateway;
use crate::support::tempdir::TempDir;

const REQUIRED_LABELS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels

        violation[{"msg": msg, "details": {"missing": missing}}] {
          provided := {l | input.review.object.metadata.labels[l]}
          required := {l | l := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
"#;

const ALLOWED_REPOS: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sallowedrepos
spec:
  crd:
    spec:
      names:
        kind: K8sAllowedRepos
      validation:
        openAPIV3Schema:
          type: object
          properties:
            repos:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      code:
        - engine: Rego
          source:
            version: v1
            rego: |
              package k8sallowedrepos

              violation contains {"msg": msg} if {
                some c in input.review.object.spec.containers
                not allowed(c.image)
                msg := sprintf("container <%v> has an invalid image repo <%v>", [c.name, c.image])
              }

              allowed(image) if {
                some repo in input.parameters.repos
                startswith(image, repo)
              }
"#;

const CONSTRAINTS: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: ns-must-have-owner
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Namespace"]}]
  parameters:
    labels: ["owner"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: pods-need-app
spec:
  enforcementAction: warn
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
  parameters:
    labels: ["app"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: pods-need-team
spec:
  enforcementAction: dryrun
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
  parameters:
    labels: ["team"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: prod-pods-need-tier
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
    namespaceSelector:
      matchLabels: {env: prod}
  parameters:
    labels: ["tier"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: gated-pods-need-owner
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
    labelSelector:
      matchLabels: {gated: "yes"}
  parameters:
    labels: ["owner"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedRepos
metadata:
  name: repos
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Pod"]}]
    excludedNamespaces: ["kube-*"]
  parameters:
    repos: ["registry.example.com/"]
"#;

const NAMESPACES: &str = r#"apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Namespace
    metadata: {name: prod, labels: {env: prod, owner: ops}}
  - apiVersion: v1
    kind: Namespace
    metadata: {name: dev, labels: {env: dev}}
"#;

/// A gateway serving the fixtures above from files.
struct Fixture {
    gateway: Gateway,
    dir: TempDir,
}

impl Fixture {
    fn start() -> Fixture {
        let dir = TempDir::new("gatekeeper");
        let policies = dir.path().join("policies");
        std::fs::create_dir_all(&policies).expect("dir");
        std::fs::write(policies.join("required-labels.yaml"), REQUIRED_LABELS).expect("write");
        std::fs::write(policies.join("allowed-repos.yaml"), ALLOWED_REPOS).expect("write");
        std::fs::write(policies.join("constraints.yaml"), CONSTRAINTS).expect("write");
        let inventory = dir.path().join("namespaces.yaml");
        std::fs::write(&inventory, NAMESPACES).expect("write");
        let gateway = Gateway::start(&[
            "--gatekeeper",
            &policies.to_string_lossy(),
            "--inventory",
            &inventory.to_string_lossy(),
        ]);
        Fixture { gateway, dir }
    }

    fn admit(&self, body: &Value) -> Value {
        let reply = self.post_json("/v1/admit", &body.to_string());
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    fn post_json(&self, path: &str, body: &str) -> Reply {
        client::send(
            &self.gateway.target,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    fn send_yaml(&self, method: &str, path: &str, body: &str) -> Reply {
        client::send(
            &self.gateway.target,
            method,
            path,
            &[("Content-Type", "application/yaml")],
            body.as_bytes(),
        )
    }

    /// PUTs a template the gateway stores but cannot ingest; answers its status error's
    /// message after checking the code.
    fn put_uningestible_template(&self, name: &str, yaml: &str) -> String {
        let put = self.send_yaml("PUT", &format!("/v1/gatekeeper/templates/{name}"), yaml);
        assert_eq!(put.status, 201, "{}", put.text());
        let errors = &put.json()["status"]["byPod"][0]["errors"];
        assert_eq!(errors[0]["code"], "ingest_error");
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn pod(name: &str, namespace: &str, labels: Value, image: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "main", "image": image}]}
    })
}

fn review(version: &str, operation: &str, object: Option<Value>, old: Option<Value>) -> Value {
    let subject = object
        .as_ref()
        .or(old.as_ref())
        .cloned()
        .unwrap_or(Value::Null);
    let kind = subject["kind"].as_str().unwrap_or_default().to_string();
    let mut request = json!({
        "uid": format!("uid-{operation}-{kind}"),
        "kind": {"group": "", "version": "v1", "kind": kind},
        "resource": {"group": "", "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
        "name": subject["metadata"]["name"],
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["dev"]},
        "object": object,
        "oldObject": old,
    });
    if let Some(ns) = subject["metadata"]["namespace"].as_str() {
        request["namespace"] = json!(ns);
    }
    json!({"apiVersion": format!("admission.k8s.io/{version}"), "kind": "AdmissionReview", "request": request})
}

const GOOD_IMAGE: &str = "registry.example.com/app:1";

#[test]
fn denies_with_gatekeepers_messages_in_kind_then_name_order() {
    let fx = Fixture::start();
    let bad = pod("web", "prod", json!({}), "docker.io/nginx");
    let answer = fx.admit(&review("v1", "CREATE", Some(bad), None));
    assert_eq!(
        answer,
        json!({
            "kind": "AdmissionReview",
            "apiVersion": "admission.k8s.io/v1",
            "response": {
                "uid": "uid-CREATE-Pod",
                "allowed": false,
                "status": {
                    "metadata": {},
                    "message": "[repos] container <main> has an invalid image repo <docker.io/nginx>\n[prod-pods-need-tier] you must provide labels: {\"tier\"}",
                    "reason": "Forbidden",
                    "code": 403
                },
                // warn results are warnings; the dryrun constraint (pods-need-team) is silent.
                "warnings": ["[pods-need-app] you must provide labels: {\"app\"}"]
            }
        })
    );
}

#[test]
fn allows_with_299_when_only_warnings_and_200_when_clean() {
    let fx = Fixture::start();
    let warned = pod("web", "dev", json!({"team": "a"}), GOOD_IMAGE);
    let answer = fx.admit(&review("v1", "CREATE", Some(warned), None));
    assert_eq!(
        answer["response"],
        json!({
            "uid": "uid-CREATE-Pod",
            "allowed": true,
            "status": {"metadata": {}, "code": 299},
            "warnings": ["[pods-need-app] you must provide labels: {\"app\"}"]
        })
    );
    let clean = pod("web", "dev", json!({"app": "web", "team": "a"}), GOOD_IMAGE);
    let reply = fx.post_json(
        "/v1/admit",
        &review("v1", "CREATE", Some(clean), None).to_string(),
    );
    // Byte for byte what controller-runtime writes.
    assert_eq!(
        reply.text(),
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"response\":{\"uid\":\"uid-CREATE-Pod\",\"allowed\":true,\"status\":{\"metadata\":{},\"code\":200}}}\n"
    );
}

#[test]
fn cluster_scoped_objects_and_v1beta1_reviews() {
    let fx = Fixture::start();
    let namespace =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-x"}});
    let answer = fx.admit(&review("v1beta1", "CREATE", Some(namespace), None));
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(
        answer["response"]["status"]["message"],
        "[ns-must-have-owner] you must provide labels: {\"owner\"}"
    );
}

#[test]
fn update_matches_on_the_old_object_and_delete_reviews_it() {
    let fx = Fixture::start();
    let labels = json!({"app": "a", "team": "t"});
    let mut old_labels = labels.clone();
    old_labels["gated"] = json!("yes");
    let new = pod("web", "dev", labels.clone(), GOOD_IMAGE);
    let old = pod("web", "dev", old_labels, GOOD_IMAGE);
    // Only the old object carries gated=yes: the constraint applies and reviews the new one.
    let update = fx.admit(&review("v1", "UPDATE", Some(new.clone()), Some(old)));
    assert_eq!(
        update["response"]["status"]["message"],
        "[gated-pods-need-owner] you must provide labels: {\"owner\"}"
    );
    let create = fx.admit(&review("v1", "CREATE", Some(new), None));
    assert_eq!(create["response"]["allowed"], true);

    // DELETE reviews oldObject.
    let gone = pod("web", "dev", json!({"team": "t"}), GOOD_IMAGE);
    let delete = fx.admit(&review("v1", "DELETE", None, Some(gone)));
    assert_eq!(
        delete["response"]["warnings"],
        json!(["[pods-need-app] you must provide labels: {\"app\"}"])
    );
    let broken = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "name": "web",
        "namespace": "dev", "operation": "DELETE"}});
    let answer = fx.admit(&broken);
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["status"]["code"], 500);
    assert!(
        answer["response"]["status"]["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("oldObject cannot be nil for DELETE operations"),
        "{answer}"
    );
}

#[test]
fn unknown_namespaces_autoreject_namespace_selector_constraints() {
    let fx = Fixture::start();
    let lost = pod(
        "lost",
        "ghost",
        json!({"app": "a", "team": "t"}),
        GOOD_IMAGE,
    );
    let answer = fx.admit(&review("v1", "CREATE", Some(lost.clone()), None));
    assert_eq!(
        answer["response"]["status"]["message"],
        "[prod-pods-need-tier] unable to match constraints: error matching the requested object: lost :failed to run Match criteria: namespace selector for namespace-scoped object but missing Namespace"
    );
    // Syncing the Namespace through the inventory API lets the selector decide.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ghost\n  labels: {env: prod}\n";
    let added = fx.send_yaml("POST", "/v1/gatekeeper/inventory", ns);
    assert_eq!(added.status, 200, "{}", added.text());
    assert_eq!(added.json()["added"], 1);
    let answer = fx.admit(&review("v1", "CREATE", Some(lost), None));
    assert_eq!(
        answer["response"]["status"]["message"],
        "[prod-pods-need-tier] you must provide labels: {\"tier\"}"
    );
    let removed = fx.send_yaml("DELETE", "/v1/gatekeeper/inventory", ns);
    assert_eq!(removed.json()["removed"], 1);
}

#[test]
fn bad_reviews_get_status_code_400_with_a_message() {
    let fx = Fixture::start();
    let cases = [
        ("{not json", "couldn't get version/kind; json parse error"),
        (
            r#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{}}"#,
            "no kind \"AdmissionReview\" is registered for version \"admission.k8s.io/v2\"",
        ),
        (
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
            "the AdmissionReview has no request",
        ),
        (
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":5}}"#,
            "json: cannot unmarshal number into Go struct field AdmissionRequest.request.operation",
        ),
    ];
    for (body, message) in cases {
        let reply = fx.post_json("/v1/admit", body);
        assert_eq!(reply.status, 200, "{body}");
        let answer = reply.json();
        assert_eq!(answer["response"]["allowed"], false, "{body}");
        assert_eq!(answer["response"]["status"]["code"], 400, "{body}");
        let text = answer["response"]["status"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains(message), "{body}: {text}");
        // Undecodable reviews are answered without kind/apiVersion, as controller-runtime does.
        assert!(answer.get("kind").is_none(), "{body}");
    }
    let yaml = client::send(
        &fx.gateway.target,
        "POST",
        "/v1/admit",
        &[("Content-Type", "application/yaml")],
        b"{}",
    );
    assert_eq!(
        yaml.json()["response"]["status"]["message"],
        "contentType=application/yaml, expected application/json"
    );
    assert_eq!(fx.gateway.send("GET", "/v1/admit", "").status, 405);
}

#[test]
fn templates_and_constraints_through_the_api_with_gatekeeper_status() {
    let fx = Fixture::start();
    let listed = fx
        .gateway
        .send("GET", "/v1/gatekeeper/templates", "")
        .json();
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["k8sallowedrepos", "k8srequiredlabels"]);
    assert_eq!(listed["items"][1]["status"]["created"], true);
    assert!(
        listed["items"][1]["status"]["byPod"][0]
            .get("errors")
            .is_none()
    );

    // A template whose Rego calls http.send is stored with an ingest_error; the rest work.
    let http_send = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sfetch}
spec:
  crd: {spec: {names: {kind: K8sFetch}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sfetch
        violation[{"msg": msg}] {
          resp := http.send({"method": "get", "url": "http://example.com"})
          msg := resp.body
        }
"#;
    let message = fx.put_uningestible_template("k8sfetch", http_send);
    assert!(message.starts_with("Could not ingest Rego: "), "{message}");
    assert!(
        message.contains("template:3: rego_type_error: undefined function http.send"),
        "{message}"
    );
    let still = fx.admit(&review(
        "v1",
        "CREATE",
        Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})),
        None,
    ));
    assert_eq!(still["response"]["allowed"], false);

    // So is one whose negation leaves a variable unbound, which OPA's compiler rejects.
    let unsafe_negation = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snolabels}
spec:
  crd: {spec: {names: {kind: K8sNoLabels}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snolabels
        violation[{"msg": msg}] {
          not input.review.object.metadata.labels[_]
          msg := "no labels"
        }
"#;
    let message = fx.put_uningestible_template("k8snolabels", unsafe_negation);
    assert!(
        message.contains("template:3: rego_unsafe_var_error: var _ is unsafe"),
        "{message}"
    );

    // Structural problems are refused as Gatekeeper's admission refuses them.
    let wrong_name = REQUIRED_LABELS.replace("name: k8srequiredlabels", "name: other");
    let refused = fx.send_yaml("PUT", "/v1/gatekeeper/templates/other", &wrong_name);
    assert_eq!(refused.status, 422);
    assert_eq!(refused.json()["reason"], "Invalid");
    assert!(refused.json()["message"].as_str().unwrap_or_default().contains(
        "the ConstraintTemplate's name \"other\" is not equal to the lowercase of CRD's Kind: \"k8srequiredlabels\""
    ));

    // Constraints: parameters checked against the template's schema, defaults kept.
    let bad = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: bad}\nspec:\n  parameters: {labels: owner}\n";
    let refused = fx.send_yaml(
        "PUT",
        "/v1/gatekeeper/constraints/K8sRequiredLabels/bad",
        bad,
    );
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.json()["message"],
        "schema validation failed: [].spec.parameters.labels: Invalid value: \"string\": spec.parameters.labels in body must be of type array: \"string\""
    );
    let orphan =
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNope\nmetadata: {name: x}\n";
    let refused = fx.send_yaml("PUT", "/v1/gatekeeper/constraints/K8sNope/x", orphan);
    assert_eq!(
        refused.json()["message"],
        "missing ConstraintTemplate: template \"k8snope\" not found"
    );

    let good = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: cm-need-owner}\nspec:\n  match: {kinds: [{apiGroups: [\"\"], kinds: [ConfigMap]}]}\n  parameters: {labels: [owner]}\n";
    let put = fx.send_yaml(
        "PUT",
        "/v1/gatekeeper/constraints/K8sRequiredLabels/cm-need-owner",
        good,
    );
    assert_eq!(put.status, 201, "{}", put.text());
    let stored = put.json();
    assert_eq!(stored["spec"]["enforcementAction"], "deny");
    assert_eq!(stored["status"]["byPod"][0]["enforced"], true);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "dev"}});
    let answer = fx.admit(&review("v1", "CREATE", Some(cm.clone()), None));
    assert_eq!(
        answer["response"]["status"]["message"],
        "[cm-need-owner] you must provide labels: {\"owner\"}"
    );
    let deleted = fx.gateway.send(
        "DELETE",
        "/v1/gatekeeper/constraints/K8sRequiredLabels/cm-need-owner",
        "",
    );
    assert_eq!(deleted.status, 200);
    assert_eq!(
        fx.admit(&review("v1", "CREATE", Some(cm), None))["response"]["allowed"],
        true
    );
    assert_eq!(
        fx.gateway
            .send(
                "GET",
                "/v1/gatekeeper/constraints/K8sRequiredLabels/cm-need-owner",
                ""
            )
            .status,
        404
    );
}

#[test]
fn audit_reports_per_constraint_and_metrics_use_gatekeepers_names() {
    let fx = Fixture::start();
    let pods = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: dev}, spec: {containers: [{name: c, image: docker.io/x}]}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: prod, labels: {app: b}}, spec: {containers: [{name: c, image: registry.example.com/b}]}}\n";
    assert_eq!(
        fx.send_yaml("POST", "/v1/gatekeeper/inventory", pods)
            .status,
        200
    );
    let audit = fx.post_json("/v1/gatekeeper/audit", "");
    assert_eq!(audit.status, 200, "{}", audit.text());
    let report = audit.json();
    let constraint = |name: &str| {
        report["constraints"]
            .as_array()
            .expect("constraints")
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing from {report}"))
    };
    // dev has no owner label; prod has one.
    assert_eq!(constraint("ns-must-have-owner")["totalViolations"], 1);
    assert_eq!(
        constraint("ns-must-have-owner")["violations"],
        json!([{"enforcementAction": "deny", "group": "", "kind": "Namespace",
                "message": "you must provide labels: {\"owner\"}", "name": "dev", "version": "v1"}])
    );
    assert_eq!(constraint("pods-need-app")["totalViolations"], 1);
    assert_eq!(constraint("prod-pods-need-tier")["totalViolations"], 1);
    assert_eq!(constraint("repos")["violations"][0]["namespace"], "dev");
    // The constraint's status shows the audit, as Gatekeeper writes it.
    let status = fx
        .gateway
        .send(
            "GET",
            "/v1/gatekeeper/constraints/K8sRequiredLabels/ns-must-have-owner",
            "",
        )
        .json();
    assert_eq!(status["status"]["totalViolations"], 1);

    fx.admit(&review(
        "v1",
        "CREATE",
        Some(pod("p", "dev", json!({}), GOOD_IMAGE)),
        None,
    ));
    let metrics = fx.gateway.send("GET", "/metrics", "").text();
    for line in [
        "gatekeeper_validation_request_count_total{admission_dryrun=\"false\",admission_status=\"allow\"} 1",
        "gatekeeper_validation_request_duration_seconds_bucket{admission_status=\"allow\",le=\"0.001\"}",
        "gatekeeper_constraint_templates{status=\"active\"} 2",
        "gatekeeper_constraints{enforcement_action=\"deny\",status=\"active\"} 4",
        "gatekeeper_constraints{enforcement_action=\"warn\",status=\"active\"} 1",
        "gatekeeper_violations{enforcement_action=\"deny\"}",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
}

#[test]
fn file_changes_reload_and_bad_file_constraints_show_their_error() {
    let fx = Fixture::start();
    let dev_pod = pod("web", "dev", json!({"team": "t"}), GOOD_IMAGE);
    let before = fx.admit(&review("v1", "CREATE", Some(dev_pod.clone()), None));
    assert_eq!(before["response"]["status"]["code"], 299);

    let constraints = CONSTRAINTS
        .replace("  enforcementAction: warn\n", "  enforcementAction: deny\n")
        + "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: broken}\nspec:\n  parameters: {labels: 7}\n";
    std::fs::write(fx.dir.path().join("policies/constraints.yaml"), constraints).expect("write");
    assert!(fx.gateway.reload_bundles(), "the change was not picked up");
    let after = fx.admit(&review("v1", "CREATE", Some(dev_pod), None));
    assert_eq!(
        after["response"]["status"]["message"],
        "[pods-need-app] you must provide labels: {\"app\"}"
    );
    let broken = fx
        .gateway
        .send(
            "GET",
            "/v1/gatekeeper/constraints/K8sRequiredLabels/broken",
            "",
        )
        .json();
    assert_eq!(broken["status"]["byPod"][0]["enforced"], false);
    assert!(
        broken["status"]["byPod"][0]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("spec.parameters.labels in body must be of type array: \"integer\""),
        "{broken}"
    );
}

#[test]
fn templates_see_no_runtime_document_while_opa_policies_see_the_environment() {
    let dir = TempDir::new("gatekeeper-runtime");
    std::fs::write(
        dir.path().join("runtime.yaml"),
        r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sruntime}
spec:
  crd: {spec: {names: {kind: K8sRuntime}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sruntime
        violation[{"msg": msg}] {
          msg := sprintf("runtime: %v", [opa.runtime()])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRuntime
metadata: {name: runtime}
spec:
  match: {kinds: [{apiGroups: [""], kinds: ["Pod"]}]}
"#,
    )
    .expect("write");
    let gateway = Gateway::start(&["--gatekeeper", &dir.path().to_string_lossy()]);
    let object = pod("web", "default", json!({}), "nginx");
    let reply = client::send(
        &gateway.target,
        "POST",
        "/v1/admit",
        &[("Content-Type", "application/json")],
        review("v1", "CREATE", Some(object), None)
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        reply.json()["response"]["status"]["message"],
        "[runtime] runtime: {}"
    );
    let policy = "package rt\n\nhas_env := is_object(opa.runtime().env)\n";
    assert_eq!(gateway.send("PUT", "/v1/policies/rt", policy).status, 200);
    assert_eq!(
        gateway.send("GET", "/v1/data/rt/has_env", "").text(),
        "{\"result\":true}\n"
    );
}
