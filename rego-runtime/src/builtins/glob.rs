//! `glob.quote_meta`, escaping what gobwas/glob (OPA's glob library) treats as syntax.

use super::Builtin;
use super::args::{self, BuiltinError};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "glob.quote_meta",
    arity: 1,
    nondeterministic: false,
    eval: quote_meta,
}];

fn quote_meta(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "*?[]{}\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected value confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn escapes_glob_syntax() {
        let quoted = quote_meta(&[Value::string("a.b*c?d[e]f{g}h\\i!j-k^l")]);
        assert_eq!(
            quoted.ok().and_then(|v| v.as_str().map(str::to_string)),
            Some("a.b\\*c\\?d\\[e\\]f\\{g\\}h\\\\i!j-k^l".to_string())
        );
    }
}
