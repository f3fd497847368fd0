//! ConstraintTemplates: reading `templates.gatekeeper.sh/v1|v1beta1|v1alpha1` objects into one
//! shape, the checks Gatekeeper makes before it creates the constraint CRD, and compiling the
//! Rego (rewritten as frameworks' regorewriter does, its package renamed `template`) so that
//! `data.template.violation` answers for one constraint's `input = {review, parameters}`.

use std::sync::Arc;

use rego_runtime::{
    ConflictMessages, Engine, Error as EngineError, PathSegment, PolicyModule, PolicySet, Prepared,
    RegoVersion, Value,
};

use super::objects;
use super::rewrite::{self, Role};
use super::schema::Schema;

/// The API group of ConstraintTemplates.
pub const GROUP: &str = "templates.gatekeeper.sh";
/// The one target Gatekeeper knows.
pub const TARGET: &str = "admission.k8s.gatekeeper.sh";
/// Gatekeeper disables `http.send` in templates (`--disable-opa-builtin`).
pub const DISABLED_BUILTINS: [&str; 1] = ["http.send"];
/// The file name the template's module has in error locations.
pub const TEMPLATE_FILE: &str = "template";
const REGO_ENGINE: &str = "Rego";

/// Status error codes, as `status.byPod[].errors[].code` shows them.
pub const CODE_CREATE_ERROR: &str = "create_error";
pub const CODE_INGEST_ERROR: &str = "ingest_error";

/// Why a template cannot enforce, with Gatekeeper's status code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateProblem {
    /// `create_error` (refused before compiling) or `ingest_error` (Rego).
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The Rego of a template's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegoCode {
    pub rego: String,
    pub libs: Vec<String>,
    pub version: RegoVersion,
}

/// A ConstraintTemplate in the version-independent shape Gatekeeper converts to.
#[derive(Clone, Debug)]
pub struct Template {
    /// `metadata.name`.
    pub name: String,
    /// `spec.crd.spec.names.kind`: the kind of its constraints.
    pub kind: String,
    /// `targets[0].operations`: the webhook skips the template for other operations.
    pub operations: Vec<String>,
    /// The schema of `spec.parameters` (after `legacySchema`), if the template has one.
    pub parameters: Option<Schema>,
    /// The Rego code; `None` when only another engine (CEL) is given.
    pub rego: Option<RegoCode>,
}

impl Template {
    /// Reads and checks a ConstraintTemplate object as Gatekeeper does before it creates the
    /// constraint CRD (name, kind, exactly one known target, operations, schema).
    ///
    /// # Errors
    /// A [`TemplateProblem`] with code `create_error`, worded as Gatekeeper words it.
    pub fn from_object(object: &Value) -> Result<Template, TemplateProblem> {
        let create = |message: String| TemplateProblem {
            code: CODE_CREATE_ERROR,
            message,
        };
        let api_version = objects::api_version(object);
        if objects::group_of(api_version) != GROUP || objects::kind(object) != "ConstraintTemplate"
        {
            return Err(create(format!(
                "not a ConstraintTemplate: apiVersion {api_version:?}, kind {:?}",
                objects::kind(object)
            )));
        }
        let version = objects::version_of(api_version);
        if !matches!(version, "v1" | "v1beta1" | "v1alpha1") {
            return Err(create(format!(
                "no kind \"ConstraintTemplate\" is registered for version \"{api_version}\""
            )));
        }
        let name = objects::name(object).to_string();
        let spec = object.get("spec").cloned().unwrap_or_default();
        let crd_spec = spec
            .get("crd")
            .and_then(|c| c.get("spec"))
            .cloned()
            .unwrap_or_default();
        let kind = objects::str_at(&crd_spec, &["names", "kind"]).to_string();

        let targets = match spec.get("targets") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.to_vec(),
            Some(_) => return Err(create("spec.targets must be a list".to_string())),
        };
        if targets.len() != 1 {
            return Err(create(
                "invalid ConstraintTemplate: must declare exactly one target".to_string(),
            ));
        }
        let target = &targets[0];
        let target_name = objects::str_at(target, &["target"]);
        if target_name.is_empty() {
            return Err(create(
                "invalid ConstraintTemplate: target name must not be empty".to_string(),
            ));
        }
        if kind.is_empty() {
            return Err(create(format!(
                "invalid ConstraintTemplate: ConstraintTemplate {name:?} does not specify CRD Kind"
            )));
        }
        // Gatekeeper compares with strings.EqualFold; Kubernetes names are lowercase anyway.
        if !name.eq_ignore_ascii_case(&kind) {
            return Err(create(format!(
                "invalid ConstraintTemplate: the ConstraintTemplate's name {name:?} is not equal to the lowercase of CRD's Kind: {:?}",
                kind.to_lowercase()
            )));
        }
        if target_name != TARGET {
            return Err(create(format!(
                "invalid ConstraintTemplate: target {target_name:?} not recognized, known targets [{TARGET}]"
            )));
        }
        let operations = strings(target.get("operations"), "operations").map_err(create)?;
        if operations.iter().any(|op| op == "*") && operations.len() > 1 {
            return Err(create(
                "if '*' is present, must not specify other operations".to_string(),
            ));
        }

        let validation = crd_spec.get("validation");
        let legacy = match validation.and_then(|v| v.get("legacySchema")) {
            Some(Value::Bool(b)) => *b,
            // The CRD defaults legacySchema to false in v1 and to true before.
            _ => version != "v1",
        };
        let mut parameters = match validation.and_then(|v| v.get("openAPIV3Schema")) {
            Some(value) if !matches!(value, Value::Null) => Some(
                Schema::from_value(value)
                    .map_err(|e| create(format!("invalid ConstraintTemplate: {e}")))?,
            ),
            _ => None,
        };
        if legacy {
            let schema = parameters.get_or_insert_with(Schema::default);
            schema.add_preserve_unknown_fields();
        }

        let rego = rego_code(target).map_err(create)?;
        Ok(Template {
            name,
            kind,
            operations,
            parameters,
            rego,
        })
    }

    /// True when the webhook evaluates this template for `operation`.
    pub fn matches_operation(&self, operation: &str) -> bool {
        self.operations.is_empty()
            || self
                .operations
                .iter()
                .any(|op| op == operation || op == "*")
    }
}

/// The Rego of a target: the legacy `rego`/`libs` fields win (always v0), else the `Rego`
/// entry of `code[]` with its `version`.
fn rego_code(target: &Value) -> Result<Option<RegoCode>, String> {
    let legacy = objects::str_at(target, &["rego"]);
    if !legacy.is_empty() {
        return Ok(Some(RegoCode {
            rego: legacy.to_string(),
            libs: strings(target.get("libs"), "libs")?,
            version: RegoVersion::V0,
        }));
    }
    let code = match target.get("code") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items.to_vec(),
        Some(_) => return Err("spec.targets[0].code must be a list".to_string()),
    };
    for entry in &code {
        if objects::str_at(entry, &["engine"]) != REGO_ENGINE {
            continue;
        }
        let source = entry.get("source").cloned().unwrap_or_default();
        let version = match objects::str_at(&source, &["version"]) {
            "v1" => RegoVersion::V1,
            // Missing, "v0" and anything else are v0.
            _ => RegoVersion::V0,
        };
        return Ok(Some(RegoCode {
            rego: objects::str_at(&source, &["rego"]).to_string(),
            libs: strings(source.get("libs"), "libs")?,
            version,
        }));
    }
    Ok(None)
}

fn strings(value: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what} must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("{what} must be a list of strings")),
    }
}

/// A template's Rego (and libs), compiled and ready to evaluate `data.template.violation`.
pub struct CompiledTemplate {
    pub prepared: Arc<dyn Prepared>,
    /// True when the Rego reads `data.inventory` (it is then compiled with the inventory).
    pub referential: bool,
    /// `["template", "violation"]`: the set of one constraint's violation elements, which
    /// the caller shapes as the frameworks' hook does (`msg` required and a string,
    /// `details` defaulted to `{}`).
    pub violation_path: Vec<PathSegment>,
}

/// True when `code` reads `data.inventory`; only such templates see the inventory, so that
/// inventory changes never recompile the others.
pub fn is_referential(code: &RegoCode) -> bool {
    std::iter::once(&code.rego)
        .chain(&code.libs)
        .any(|source| rewrite::outline(source).references_inventory())
}

/// Rewrites and compiles a template's Rego, as the frameworks' Rego driver does. Constraints
/// are not part of it: each is evaluated with its parameters in the input, so a constraint
/// change never recompiles its template.
///
/// `inventory` is `data.inventory` for referential templates: pass the store's one tree, not a
/// copy, so that every referential template shares it (the engine converts a shared document
/// once).
///
/// # Errors
/// An `ingest_error` problem worded as Gatekeeper's: `invalid ConstraintTemplate: ...` for
/// refused or unparsable Rego, `unable to compile modules: ...` for compile errors.
pub fn compile(
    engine: &dyn Engine,
    code: &RegoCode,
    inventory: &Value,
) -> Result<CompiledTemplate, TemplateProblem> {
    let ingest = |message: String| TemplateProblem {
        code: CODE_INGEST_ERROR,
        message,
    };
    let invalid = |message: String| ingest(format!("invalid ConstraintTemplate: {message}"));
    if rego_runtime::rego::is_empty_module(&code.rego) {
        return Err(invalid(format!(
            "invalid module: module {TEMPLATE_FILE:?} is empty"
        )));
    }
    let main = rewrite::outline(&code.rego);
    if !main.has_violation {
        return Err(invalid(
            "invalid rego: invalid module: missing required rules: [violation]".to_string(),
        ));
    }
    let lib_files: Vec<String> = (0..code.libs.len())
        .map(|i| format!("libs[\"lib_{i}\"]"))
        .collect();
    let libs: Vec<rewrite::Outline> = code.libs.iter().map(|l| rewrite::outline(l)).collect();
    for lib in &libs {
        rewrite::check_lib_package(lib).map_err(|r| invalid(r.0))?;
    }
    for outline in libs.iter().chain(std::iter::once(&main)) {
        rewrite::check_imports(outline).map_err(|r| invalid(r.0))?;
    }
    for (outline, file) in libs
        .iter()
        .zip(&lib_files)
        .chain(std::iter::once((&main, &TEMPLATE_FILE.to_string())))
    {
        rewrite::check_data_refs(outline, file).map_err(|r| invalid(r.0))?;
    }

    let referential =
        main.references_inventory() || libs.iter().any(rewrite::Outline::references_inventory);
    let mut modules = vec![PolicyModule {
        id: TEMPLATE_FILE.to_string(),
        file: TEMPLATE_FILE.to_string(),
        source: Arc::from(rewrite::apply(&code.rego, &main, Role::Template)),
        rego_version: code.version,
    }];
    for ((source, outline), file) in code.libs.iter().zip(&libs).zip(&lib_files) {
        modules.push(PolicyModule {
            id: file.clone(),
            file: file.clone(),
            source: Arc::from(rewrite::apply(source, outline, Role::Lib)),
            rego_version: code.version,
        });
    }
    let data = if referential {
        Value::object([("inventory", inventory.clone())])
    } else {
        Value::empty_object()
    };
    let prepared = engine
        .prepare(&PolicySet {
            modules,
            data,
            disabled_builtins: DISABLED_BUILTINS.iter().map(|s| s.to_string()).collect(),
            conflict_messages: ConflictMessages::Gatekeeper,
        })
        .map_err(|error| match &error {
            EngineError::Compile(problems)
                if problems.iter().all(|p| p.code == "rego_parse_error") =>
            {
                invalid(error.to_string())
            }
            _ => ingest(format!("unable to compile modules: {error}")),
        })?;
    Ok(CompiledTemplate {
        prepared,
        referential,
        violation_path: vec![
            PathSegment::Key(rewrite::TEMPLATE_PACKAGE.to_string()),
            PathSegment::Key("violation".to_string()),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rego_runtime::rego::RegoEngine;

    fn template(yaml: &str) -> Result<Template, TemplateProblem> {
        let docs = objects::parse_documents(yaml).expect("yaml");
        Template::from_object(&docs[0])
    }

    const BASE: &str = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sx}\nspec:\n  crd: {spec: {names: {kind: K8sX}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package x\n      violation[{\"msg\": \"m\"}] { true }\n";

    #[test]
    fn reads_legacy_rego_as_v0() {
        let t = template(BASE).expect("template");
        assert_eq!(t.kind, "K8sX");
        let code = t.rego.expect("rego");
        assert_eq!(code.version, RegoVersion::V0);
        assert!(t.parameters.is_none());
    }

    #[test]
    fn refuses_structural_problems() {
        let wrong_name = BASE.replace("name: k8sx", "name: other");
        assert!(
            template(&wrong_name)
                .expect_err("name")
                .message
                .contains("is not equal to the lowercase of CRD's Kind: \"k8sx\"")
        );
        let two = BASE.replace(
            "  targets:\n",
            "  targets:\n  - target: admission.k8s.gatekeeper.sh\n",
        );
        assert_eq!(
            template(&two).expect_err("targets").message,
            "invalid ConstraintTemplate: must declare exactly one target"
        );
    }

    #[test]
    fn compiles_and_reports_disabled_http_send() {
        let t = template(BASE).expect("template");
        let code = t.rego.expect("rego");
        let compiled =
            compile(&RegoEngine::default(), &code, &Value::empty_object()).expect("compiles");
        assert!(!compiled.referential);
        let http = RegoCode {
            rego: "package x\nviolation[{\"msg\": m}] {\n  r := http.send({\"method\": \"get\", \"url\": \"http://x\"})\n  m := r.body\n}\n".into(),
            libs: vec![],
            version: RegoVersion::V0,
        };
        let problem = compile(&RegoEngine::default(), &http, &Value::empty_object())
            .err()
            .expect("http.send refused");
        assert_eq!(problem.code, CODE_INGEST_ERROR);
        assert!(
            problem.message.contains("undefined function http.send"),
            "{}",
            problem.message
        );
        assert!(
            problem.message.contains("template:3"),
            "{}",
            problem.message
        );
    }
}
