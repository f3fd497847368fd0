//! `opa.runtime`: the document the host gives (see [`super::Host`]), as OPA answers the
//! runtime it was started with (`env`, `version`, `commit`, and with a config file `config`).

use super::args::BuiltinError;
use super::{Builtin, EvalContext, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "opa.runtime",
    arity: 0,
    nondeterministic: true,
    eval: Implementation::Context(runtime),
}];

fn runtime(context: &mut EvalContext<'_>, _: &[Value]) -> Result<Value, BuiltinError> {
    Ok(context.host().runtime().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::{EvalState, Host};

    #[test]
    fn answers_the_hosts_document() {
        let mut state = EvalState::default();
        let host = Host::default();
        let answer = runtime(&mut EvalContext::new(&host, &mut state), &[]).expect("document");
        assert_eq!(answer.to_json(), r#"{"commit":"","env":{},"version":""}"#);
        let host = Host::default().with_runtime(Value::object([("version", Value::string("1"))]));
        let answer = runtime(&mut EvalContext::new(&host, &mut state), &[]).expect("document");
        assert_eq!(answer.to_json(), r#"{"version":"1"}"#);
    }
}
