//! `graphql.*`: parse queries and schemas into gqlparser's AST JSON (what OPA returns), load
//! schemas, and validate queries against them with the common GraphQL validation rules.
//!
//! Validation covers: root operation types, fields on their types, known and required
//! arguments, leaf selections, known and used fragments, fragment type conditions, defined
//! and used variables, known types and directives, unique and lone-anonymous operations.
//! Value type checks (`ValuesOfCorrectType`) and field-merge conflicts are not checked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::args::{self, BuiltinError};
use super::graphql_syntax::{
    self as syntax, Definition, Directive, FieldDefinition, GqlValue, Position, QueryDocument,
    SchemaDocument, Selection, SyntaxError, TypeRef,
};
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("graphql.parse_query", 1, parse_query),
    builtin("graphql.parse_schema", 1, parse_schema),
    builtin("graphql.parse", 2, parse),
    builtin("graphql.parse_and_verify", 2, parse_and_verify),
    builtin("graphql.is_valid", 2, is_valid),
    builtin("graphql.schema_is_valid", 1, schema_is_valid),
];

/// OPA's wording for a parse error: `<message> in GraphQL string at location L:C`.
fn syntax_failure(error: SyntaxError) -> BuiltinError {
    BuiltinError::failed(format!(
        "{} in GraphQL string at location {}:{}",
        error.message, error.position.line, error.position.column
    ))
}

/// A validation problem: message and where.
struct Problem {
    message: String,
    position: Position,
}

/// OPA ends each message with a line break, then drops a final `.` with it.
fn validation_failure(problem: Problem) -> BuiltinError {
    let message = format!("{}\n", problem.message);
    BuiltinError::failed(format!(
        "{} in GraphQL string at location {}:{}",
        message.strip_suffix(".\n").unwrap_or(&message),
        problem.position.line,
        problem.position.column
    ))
}

fn schema_failure(problem: Problem) -> BuiltinError {
    BuiltinError::failed(format!(
        "Error in gqlparser SchemaDocument to Schema conversion: input:{}:{}: {}",
        problem.position.line, problem.position.column, problem.message
    ))
}

/// The text operand of a GraphQL builtin (OPA also takes ASTs as objects; only text is read).
fn text(args: &[Value], position: usize) -> Result<&str, BuiltinError> {
    match &args[position] {
        Value::String(s) => Ok(s),
        other => Err(args::wrong_type(position, "string", other)),
    }
}

fn parse_query(args: &[Value]) -> Result<Value, BuiltinError> {
    let document = syntax::parse_query(text(args, 0)?).map_err(syntax_failure)?;
    Ok(query_json(&document))
}

fn parse_schema(args: &[Value]) -> Result<Value, BuiltinError> {
    let document = syntax::parse_schema(text(args, 0)?).map_err(syntax_failure)?;
    Ok(schema_json(&document))
}

/// Parses both and validates the query; the documents as JSON.
fn checked(args: &[Value]) -> Result<(Value, Value), BuiltinError> {
    let query_text = text(args, 0)?;
    let schema_text = text(args, 1)?;
    let schema_document = syntax::parse_schema(schema_text).map_err(syntax_failure)?;
    let schema = Schema::load(&schema_document).map_err(schema_failure)?;
    let query = syntax::parse_query(query_text).map_err(syntax_failure)?;
    validate(&schema, &query).map_err(validation_failure)?;
    Ok((query_json(&query), schema_json(&schema_document)))
}

fn parse(args: &[Value]) -> Result<Value, BuiltinError> {
    let (query, schema) = checked(args)?;
    Ok(Value::array(vec![query, schema]))
}

/// True for an operand OPA's predicates answer `false` for: neither text nor an AST object.
fn neither_text_nor_ast(value: &Value) -> bool {
    !matches!(value, Value::String(_) | Value::Object(_))
}

fn parse_and_verify(args: &[Value]) -> Result<Value, BuiltinError> {
    if !args.iter().any(neither_text_nor_ast) {
        text(args, 0)?;
        text(args, 1)?;
    }
    Ok(match checked(args) {
        Ok((query, schema)) => Value::array(vec![Value::Bool(true), query, schema]),
        Err(_) => Value::array(vec![
            Value::Bool(false),
            Value::empty_object(),
            Value::empty_object(),
        ]),
    })
}

fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    if !args.iter().any(neither_text_nor_ast) {
        text(args, 0)?;
        text(args, 1)?;
    }
    Ok(Value::Bool(checked(args).is_ok()))
}

/// A schema AST object (what `graphql.parse_schema` returns) is taken as valid: OPA loads it
/// as the schema it describes, and an AST made by the parser always loads. Anything but text
/// or an object is not a schema.
fn schema_is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    let valid = match &args[0] {
        Value::String(text) => syntax::parse_schema(text)
            .ok()
            .is_some_and(|document| Schema::load(&document).is_ok()),
        Value::Object(_) => true,
        _ => false,
    };
    Ok(Value::Bool(valid))
}

// ---- JSON in gqlparser's shape: empty lists are left out, as its `omitempty` tags say. ----

struct Members(BTreeMap<Value, Value>);

impl Members {
    fn new() -> Members {
        Members(BTreeMap::new())
    }

    fn put(mut self, key: &str, value: Value) -> Members {
        self.0.insert(Value::string(key), value);
        self
    }

    fn list(self, key: &str, items: Vec<Value>) -> Members {
        if items.is_empty() {
            self
        } else {
            self.put(key, Value::array(items))
        }
    }

    /// gqlparser's `CommentGroup`: `{"List": [{"Value": "# text"}]}`, left out when empty.
    fn comment(self, key: &str, lines: &[String]) -> Members {
        let list = lines
            .iter()
            .map(|line| Members::new().text("Value", line).done())
            .collect();
        if lines.is_empty() {
            self
        } else {
            self.put(key, Members::new().put("List", Value::array(list)).done())
        }
    }

    fn described(self, comments: &syntax::Comments) -> Members {
        self.comment("BeforeDescriptionComment", &comments.before_description)
            .comment("AfterDescriptionComment", &comments.after_description)
            .comment("EndOfDefinitionComment", &comments.end_of_definition)
    }

    fn text(self, key: &str, text: &str) -> Members {
        self.put(key, Value::string(text))
    }

    fn done(self) -> Value {
        Value::Object(std::sync::Arc::new(self.0))
    }
}

fn value_json(value: &GqlValue) -> Value {
    let children = value
        .children
        .iter()
        .map(|(name, child)| {
            Members::new()
                .text("Name", name)
                .put("Value", value_json(child))
                .done()
        })
        .collect();
    Members::new()
        .list("Children", children)
        .put("ExpectedTypeHasDefault", Value::Bool(false))
        .put("Kind", Value::int(value.kind as i64))
        .text("Raw", &value.raw)
        .done()
}

fn arguments_json(arguments: &[syntax::Argument]) -> Vec<Value> {
    arguments
        .iter()
        .map(|a| {
            Members::new()
                .text("Name", &a.name)
                .put("Value", value_json(&a.value))
                .done()
        })
        .collect()
}

fn directives_json(directives: &[Directive]) -> Vec<Value> {
    directives
        .iter()
        .map(|d| {
            Members::new()
                .list("Arguments", arguments_json(&d.arguments))
                .text("Location", "")
                .text("Name", &d.name)
                .done()
        })
        .collect()
}

fn type_json(ty: &TypeRef) -> Value {
    let members = Members::new()
        .text("NamedType", &ty.named)
        .put("NonNull", Value::Bool(ty.non_null));
    match &ty.elem {
        Some(elem) => members.put("Elem", type_json(elem)).done(),
        None => members.done(),
    }
}

fn selections_json(selections: &[Selection]) -> Vec<Value> {
    selections
        .iter()
        .map(|selection| match selection {
            Selection::Field(field) => Members::new()
                .comment("Comment", &field.comment)
                .text("Alias", &field.alias)
                .text("Name", &field.name)
                .list("Arguments", arguments_json(&field.arguments))
                .list("Directives", directives_json(&field.directives))
                .list("SelectionSet", selections_json(&field.selection_set))
                .done(),
            Selection::FragmentSpread {
                comment,
                name,
                directives,
                ..
            } => Members::new()
                .comment("Comment", comment)
                .text("Name", name)
                .list("Directives", directives_json(directives))
                .done(),
            Selection::InlineFragment {
                comment,
                type_condition,
                directives,
                selection_set,
                ..
            } => Members::new()
                .comment("Comment", comment)
                .text("TypeCondition", type_condition)
                .list("Directives", directives_json(directives))
                .list("SelectionSet", selections_json(selection_set))
                .done(),
        })
        .collect()
}

fn query_json(document: &QueryDocument) -> Value {
    let operations = document
        .operations
        .iter()
        .map(|op| {
            let variables = op
                .variables
                .iter()
                .map(|v| {
                    let members = Members::new()
                        .text("Variable", &v.variable)
                        .put("Type", type_json(&v.ty))
                        .put("Used", Value::Bool(false))
                        .list("Directives", directives_json(&v.directives));
                    match &v.default {
                        Some(default) => members.put("DefaultValue", value_json(default)).done(),
                        None => members.done(),
                    }
                })
                .collect();
            Members::new()
                .comment("Comment", &op.comment)
                .text("Name", &op.name)
                .text("Operation", &op.operation)
                .list("VariableDefinitions", variables)
                .list("Directives", directives_json(&op.directives))
                .list("SelectionSet", selections_json(&op.selection_set))
                .done()
        })
        .collect();
    let fragments = document
        .fragments
        .iter()
        .map(|f| {
            Members::new()
                .comment("Comment", &f.comment)
                .text("Name", &f.name)
                .text("TypeCondition", &f.type_condition)
                .list("Directives", directives_json(&f.directives))
                .list("SelectionSet", selections_json(&f.selection_set))
                .done()
        })
        .collect();
    Members::new()
        .list("Operations", operations)
        .list("Fragments", fragments)
        .done()
}

fn field_definition_json(field: &FieldDefinition) -> Value {
    let members = Members::new()
        .described(&field.comments)
        .text("Name", &field.name)
        .text("Description", &field.description)
        .list(
            "Arguments",
            field.arguments.iter().map(field_definition_json).collect(),
        )
        .put("Type", type_json(&field.ty))
        .list("Directives", directives_json(&field.directives));
    match &field.default {
        Some(default) => members.put("DefaultValue", value_json(default)).done(),
        None => members.done(),
    }
}

fn definition_json(definition: &Definition) -> Value {
    Members::new()
        .described(&definition.comments)
        .put("BuiltIn", Value::Bool(false))
        .text("Description", &definition.description)
        .text("Kind", definition.kind)
        .text("Name", &definition.name)
        .list("Directives", directives_json(&definition.directives))
        .list(
            "Interfaces",
            definition.interfaces.iter().map(Value::string).collect(),
        )
        .list(
            "Fields",
            definition
                .fields
                .iter()
                .map(field_definition_json)
                .collect(),
        )
        .list(
            "Types",
            definition.types.iter().map(Value::string).collect(),
        )
        .list(
            "EnumValues",
            definition
                .enum_values
                .iter()
                .map(|v| {
                    Members::new()
                        .described(&v.comments)
                        .text("Name", &v.name)
                        .text("Description", &v.description)
                        .list("Directives", directives_json(&v.directives))
                        .done()
                })
                .collect(),
        )
        .done()
}

fn schema_json(document: &SchemaDocument) -> Value {
    let schema_definition = |s: &syntax::SchemaDefinition| {
        Members::new()
            .text("Description", &s.description)
            .list("Directives", directives_json(&s.directives))
            .list(
                "OperationTypes",
                s.operation_types
                    .iter()
                    .map(|(op, ty)| Members::new().text("Operation", op).text("Type", ty).done())
                    .collect(),
            )
            .done()
    };
    Members::new()
        .list(
            "Definitions",
            document.definitions.iter().map(definition_json).collect(),
        )
        .list(
            "Extensions",
            document.extensions.iter().map(definition_json).collect(),
        )
        .list(
            "Directives",
            document
                .directives
                .iter()
                .map(|d| {
                    Members::new()
                        .text("Name", &d.name)
                        .text("Description", &d.description)
                        .list(
                            "Arguments",
                            d.arguments.iter().map(field_definition_json).collect(),
                        )
                        .put("IsRepeatable", Value::Bool(d.repeatable))
                        .put(
                            "Locations",
                            Value::array(d.locations.iter().map(Value::string).collect()),
                        )
                        .done()
                })
                .collect(),
        )
        .list(
            "Schema",
            document.schema.iter().map(schema_definition).collect(),
        )
        .list(
            "SchemaExtension",
            document
                .schema_extensions
                .iter()
                .map(schema_definition)
                .collect(),
        )
        .done()
}

// ---- Schema loading ----

const BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];
const BUILTIN_DIRECTIVES: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];

/// A loaded schema: types by name (extensions merged) and the root operation types.
struct Schema {
    types: HashMap<String, Definition>,
    directives: HashSet<String>,
    roots: HashMap<String, String>,
}

impl Schema {
    fn load(document: &SchemaDocument) -> Result<Schema, Problem> {
        let mut types: HashMap<String, Definition> = HashMap::new();
        for definition in &document.definitions {
            if BUILTIN_SCALARS.contains(&definition.name.as_str())
                || types.contains_key(&definition.name)
            {
                return Err(Problem {
                    message: format!("Cannot redeclare type {}.", definition.name),
                    position: definition.position,
                });
            }
            types.insert(definition.name.clone(), definition.clone());
        }
        for extension in &document.extensions {
            // gqlparser accepts an extension of a type it never saw as that type's definition.
            let base = types
                .entry(extension.name.clone())
                .or_insert_with(|| Definition {
                    fields: Vec::new(),
                    interfaces: Vec::new(),
                    types: Vec::new(),
                    enum_values: Vec::new(),
                    directives: Vec::new(),
                    ..extension.clone()
                });
            base.fields.extend(extension.fields.iter().cloned());
            base.interfaces.extend(extension.interfaces.iter().cloned());
            base.types.extend(extension.types.iter().cloned());
            base.enum_values
                .extend(extension.enum_values.iter().cloned());
            base.directives.extend(extension.directives.iter().cloned());
        }
        let mut directives: HashSet<String> = BUILTIN_DIRECTIVES
            .iter()
            .map(|d| (*d).to_string())
            .collect();
        for directive in &document.directives {
            if !directives.insert(directive.name.clone())
                && !BUILTIN_DIRECTIVES.contains(&directive.name.as_str())
            {
                return Err(Problem {
                    message: format!("Cannot redeclare directive {}.", directive.name),
                    position: Position::default(),
                });
            }
        }
        let known = |name: &str| BUILTIN_SCALARS.contains(&name) || types.contains_key(name);
        for definition in types.values() {
            let mut all_fields: Vec<&FieldDefinition> = definition.fields.iter().collect();
            for field in &definition.fields {
                all_fields.extend(field.arguments.iter());
            }
            for field in all_fields {
                if !known(field.ty.base()) {
                    return Err(Problem {
                        message: format!("Undefined type {}.", field.ty.base()),
                        position: field.ty.position,
                    });
                }
            }
            for member in definition.interfaces.iter().chain(definition.types.iter()) {
                if !known(member) {
                    return Err(Problem {
                        message: format!("Undefined type {member}."),
                        position: definition.position,
                    });
                }
            }
        }
        let mut roots = HashMap::new();
        for schema in document
            .schema
            .iter()
            .chain(document.schema_extensions.iter())
        {
            for (operation, ty) in &schema.operation_types {
                if !types.contains_key(ty) {
                    return Err(Problem {
                        message: format!("Undefined type {ty}."),
                        position: Position::default(),
                    });
                }
                roots.insert(operation.clone(), ty.clone());
            }
        }
        if document.schema.is_empty() {
            for (operation, ty) in [
                ("query", "Query"),
                ("mutation", "Mutation"),
                ("subscription", "Subscription"),
            ] {
                if types.contains_key(ty) {
                    roots.insert(operation.to_string(), ty.to_string());
                }
            }
        }
        Ok(Schema {
            types,
            directives,
            roots,
        })
    }

    fn known_type(&self, name: &str) -> bool {
        BUILTIN_SCALARS.contains(&name) || self.types.contains_key(name)
    }

    /// True when the named type has no fields to select (scalars and enums).
    fn is_leaf(&self, name: &str) -> bool {
        BUILTIN_SCALARS.contains(&name)
            || self
                .types
                .get(name)
                .is_some_and(|t| matches!(t.kind, "SCALAR" | "ENUM"))
    }
}

// ---- Query validation ----

struct Validator<'a> {
    schema: &'a Schema,
    fragments: HashMap<&'a str, &'a syntax::Fragment>,
    used_fragments: HashSet<String>,
    /// Variables used so far in the current operation, with where each was first used.
    used_variables: HashMap<String, Position>,
}

fn validate(schema: &Schema, document: &QueryDocument) -> Result<(), Problem> {
    let mut validator = Validator {
        schema,
        fragments: HashMap::new(),
        used_fragments: HashSet::new(),
        used_variables: HashMap::new(),
    };
    let mut names = HashSet::new();
    for operation in &document.operations {
        if operation.name.is_empty() && document.operations.len() > 1 {
            return Err(Problem {
                message: "This anonymous operation must be the only defined operation.".to_string(),
                position: operation.position,
            });
        }
        if !operation.name.is_empty() && !names.insert(operation.name.as_str()) {
            return Err(Problem {
                message: format!(
                    "There can be only one operation named \"{}\".",
                    operation.name
                ),
                position: operation.position,
            });
        }
    }
    for fragment in &document.fragments {
        if validator
            .fragments
            .insert(&fragment.name, fragment)
            .is_some()
        {
            return Err(Problem {
                message: format!(
                    "There can be only one fragment named \"{}\".",
                    fragment.name
                ),
                position: fragment.position,
            });
        }
    }
    for operation in &document.operations {
        let Some(root) = schema.roots.get(&operation.operation) else {
            return Err(Problem {
                message: format!(
                    "Schema does not support operation type \"{}\"",
                    operation.operation
                ),
                position: operation.position,
            });
        };
        let mut declared = HashSet::new();
        for variable in &operation.variables {
            if !declared.insert(variable.variable.as_str()) {
                return Err(Problem {
                    message: format!(
                        "There can be only one variable named \"${}\".",
                        variable.variable
                    ),
                    position: variable.position,
                });
            }
            if !schema.known_type(variable.ty.base()) {
                return Err(Problem {
                    message: format!("Unknown type \"{}\".", variable.ty.base()),
                    position: variable.ty.position,
                });
            }
        }
        validator.used_variables.clear();
        validator.directives(&operation.directives)?;
        let mut visiting = BTreeSet::new();
        validator.selections(root, &operation.selection_set, &mut visiting)?;
        let mut used: Vec<(&String, &Position)> = validator.used_variables.iter().collect();
        used.sort_by_key(|(_, p)| (p.line, p.column));
        for (used, position) in used {
            if !declared.contains(used.as_str()) {
                let message = if operation.name.is_empty() {
                    format!("Variable \"${used}\" is not defined.")
                } else {
                    format!(
                        "Variable \"${used}\" is not defined by operation \"{}\".",
                        operation.name
                    )
                };
                return Err(Problem {
                    message,
                    position: *position,
                });
            }
        }
        for variable in &operation.variables {
            if !validator.used_variables.contains_key(&variable.variable) {
                let message = if operation.name.is_empty() {
                    format!("Variable \"${}\" is never used.", variable.variable)
                } else {
                    format!(
                        "Variable \"${}\" is never used in operation \"{}\".",
                        variable.variable, operation.name
                    )
                };
                return Err(Problem {
                    message,
                    position: variable.position,
                });
            }
        }
    }
    for fragment in &document.fragments {
        if !validator.used_fragments.contains(&fragment.name) {
            return Err(Problem {
                message: format!("Fragment \"{}\" is never used.", fragment.name),
                position: fragment.position,
            });
        }
    }
    Ok(())
}

impl Validator<'_> {
    fn directives(&mut self, directives: &[Directive]) -> Result<(), Problem> {
        for directive in directives {
            if !self.schema.directives.contains(&directive.name) {
                return Err(Problem {
                    message: format!("Unknown directive \"@{}\".", directive.name),
                    position: directive.position,
                });
            }
            for argument in &directive.arguments {
                self.values(&argument.value);
            }
        }
        Ok(())
    }

    fn values(&mut self, value: &GqlValue) {
        if value.kind == syntax::ValueKind::Variable {
            self.used_variables
                .entry(value.raw.clone())
                .or_insert(value.position);
        }
        for (_, child) in &value.children {
            self.values(child);
        }
    }

    fn selections(
        &mut self,
        parent: &str,
        selections: &[Selection],
        visiting: &mut BTreeSet<String>,
    ) -> Result<(), Problem> {
        for selection in selections {
            match selection {
                Selection::Field(field) => self.field(parent, field, visiting)?,
                Selection::FragmentSpread {
                    name,
                    directives,
                    position,
                    ..
                } => {
                    self.directives(directives)?;
                    let Some(fragment) = self.fragments.get(name.as_str()).copied() else {
                        return Err(Problem {
                            message: format!("Unknown fragment \"{name}\"."),
                            position: *position,
                        });
                    };
                    self.used_fragments.insert(name.clone());
                    if !self.schema.known_type(&fragment.type_condition) {
                        return Err(Problem {
                            message: format!("Unknown type \"{}\".", fragment.type_condition),
                            position: fragment.position,
                        });
                    }
                    // A fragment spread inside itself would recurse forever.
                    if !visiting.insert(name.clone()) {
                        return Err(Problem {
                            message: format!("Cannot spread fragment \"{name}\" within itself."),
                            position: *position,
                        });
                    }
                    self.directives(&fragment.directives)?;
                    self.selections(&fragment.type_condition, &fragment.selection_set, visiting)?;
                    visiting.remove(name);
                }
                Selection::InlineFragment {
                    type_condition,
                    directives,
                    selection_set,
                    position,
                    ..
                } => {
                    self.directives(directives)?;
                    let target = if type_condition.is_empty() {
                        parent.to_string()
                    } else {
                        if !self.schema.known_type(type_condition) {
                            return Err(Problem {
                                message: format!("Unknown type \"{type_condition}\"."),
                                position: *position,
                            });
                        }
                        type_condition.clone()
                    };
                    self.selections(&target, selection_set, visiting)?;
                }
            }
        }
        Ok(())
    }

    fn field(
        &mut self,
        parent: &str,
        field: &syntax::Field,
        visiting: &mut BTreeSet<String>,
    ) -> Result<(), Problem> {
        self.directives(&field.directives)?;
        for argument in &field.arguments {
            self.values(&argument.value);
        }
        if field.name == "__typename" {
            return Ok(());
        }
        let schema = self.schema;
        let parent_type = schema.types.get(parent);
        let definition = parent_type.and_then(|t| t.fields.iter().find(|f| f.name == field.name));
        let Some(definition) = definition
            .filter(|_| parent_type.is_some_and(|t| matches!(t.kind, "OBJECT" | "INTERFACE")))
        else {
            let candidates: Vec<&str> = parent_type
                .map(|t| t.fields.iter().map(|f| f.name.as_str()).collect())
                .unwrap_or_default();
            return Err(Problem {
                message: format!(
                    "Cannot query field \"{}\" on type \"{parent}\".{}",
                    field.name,
                    suggestion(&field.name, &candidates)
                ),
                position: field.position,
            });
        };
        let mut seen = HashSet::new();
        for argument in &field.arguments {
            if !seen.insert(argument.name.as_str()) {
                return Err(Problem {
                    message: format!(
                        "There can be only one argument named \"{}\".",
                        argument.name
                    ),
                    position: argument.position,
                });
            }
            if !definition.arguments.iter().any(|a| a.name == argument.name) {
                let candidates: Vec<&str> = definition
                    .arguments
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect();
                return Err(Problem {
                    message: format!(
                        "Unknown argument \"{}\" on field \"{parent}.{}\".{}",
                        argument.name,
                        field.name,
                        suggestion(&argument.name, &candidates)
                    ),
                    position: field.position,
                });
            }
        }
        for required in definition
            .arguments
            .iter()
            .filter(|a| a.ty.non_null && a.default.is_none())
        {
            if !field.arguments.iter().any(|a| a.name == required.name) {
                return Err(Problem {
                    message: format!(
                        "Field \"{}\" argument \"{}\" of type \"{}\" is required, but it was not provided.",
                        field.name,
                        required.name,
                        required.ty.text()
                    ),
                    position: field.position,
                });
            }
        }
        let field_type = definition.ty.base();
        if schema.is_leaf(field_type) {
            if !field.selection_set.is_empty() {
                return Err(Problem {
                    message: format!(
                        "Field \"{}\" must not have a selection since type \"{}\" has no subfields.",
                        field.name,
                        definition.ty.text()
                    ),
                    position: field.position,
                });
            }
        } else if field.selection_set.is_empty() {
            return Err(Problem {
                message: format!(
                    "Field \"{}\" of type \"{}\" must have a selection of subfields. Did you mean \"{} {{ ... }}\"?",
                    field.name,
                    definition.ty.text(),
                    field.name
                ),
                position: field.position,
            });
        } else {
            self.selections(field_type, &field.selection_set, visiting)?;
        }
        Ok(())
    }
}

/// gqlparser's ` Did you mean "a" or "b"?` for names within a small edit distance.
fn suggestion(input: &str, candidates: &[&str]) -> String {
    let threshold = (input.len() / 2).max(1);
    let mut close: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (edit_distance(&input.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= threshold || c.to_lowercase() == input.to_lowercase())
        .collect();
    close.sort();
    let quoted: Vec<String> = close
        .iter()
        .take(5)
        .map(|(_, c)| format!("\"{c}\""))
        .collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => format!(" Did you mean {one}?"),
        [rest @ .., last] => format!(" Did you mean {} or {last}?", rest.join(", ")),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        f: fn(&[Value]) -> Result<Value, BuiltinError>,
        args: &[&str],
    ) -> Result<String, String> {
        let args: Vec<Value> = args.iter().map(Value::string).collect();
        f(&args).map(|v| v.to_json()).map_err(|e| e.to_string())
    }

    const SCHEMA: &str = "type User { name: String, age: Int, email: String } type Query { user(id: ID): User } schema { query: Query }";

    // Expected values confirmed with `opa eval 'graphql.*(...)'` (OPA 1.22.2).
    #[test]
    fn parses_into_gqlparser_shapes() {
        assert_eq!(
            run(parse_query, &["{ a }"]),
            Ok(r#"{"Operations":[{"Name":"","Operation":"query","SelectionSet":[{"Alias":"a","Name":"a"}]}]}"#.into())
        );
        assert_eq!(run(parse_query, &[""]), Ok("{}".into()));
        assert_eq!(
            run(parse_query, &["{"]),
            Err("Expected Name, found <EOF> in GraphQL string at location 1:2".into())
        );
        let parsed = run(
            parse,
            &["query Q($id: ID! = 4) { user(id: $id) @include(if: true) { name ...F ... on User { age } } } fragment F on User { email }", SCHEMA],
        )
        .expect("parsed");
        assert!(parsed.contains(r#"{"DefaultValue":{"ExpectedTypeHasDefault":false,"Kind":1,"Raw":"4"},"Type":{"NamedType":"ID","NonNull":true},"Used":false,"Variable":"id"}"#));
        assert!(parsed.contains(r#""Schema":[{"Description":"","OperationTypes":[{"Operation":"query","Type":"Query"}]}]"#));
    }

    #[test]
    fn validates_against_schemas() {
        let schema = "type Query { a: Int }";
        assert_eq!(run(is_valid, &["{ a }", schema]), Ok("true".into()));
        assert_eq!(run(is_valid, &["{ b }", schema]), Ok("false".into()));
        assert_eq!(
            run(parse, &["{ b }", schema]),
            Err("Cannot query field \"b\" on type \"Query\". Did you mean \"a\"?\n in GraphQL string at location 1:3".into())
        );
        assert_eq!(
            run(parse, &["{ a }", "type Query { a: Unknown }"]),
            Err("Error in gqlparser SchemaDocument to Schema conversion: input:1:17: Undefined type Unknown.".into())
        );
        assert_eq!(
            run(parse_and_verify, &["{ b }", schema]),
            Ok("[false,{},{}]".into())
        );
        assert_eq!(
            run(schema_is_valid, &["type A { a: Int }"]),
            Ok("true".into())
        );
        assert_eq!(
            run(schema_is_valid, &["type Query { a: Unknown }"]),
            Ok("false".into())
        );
        // Non-text operands: confirmed with `opa eval` (OPA 1.22.2).
        assert_eq!(schema_is_valid(&[Value::int(1)]), Ok(Value::Bool(false)));
        assert_eq!(
            schema_is_valid(&[Value::empty_object()]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            is_valid(&[Value::int(1), Value::string(schema)]),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            parse_and_verify(&[Value::int(1), Value::string(schema)]).map(|v| v.to_json()),
            Ok("[false,{},{}]".into())
        );
    }

    #[test]
    fn fragment_cycles_do_not_recurse_forever() {
        let schema = "type Query { q: Query, a: Int }";
        let query = "{ q { ...F } } fragment F on Query { q { ...F } }";
        assert_eq!(run(is_valid, &[query, schema]), Ok("false".into()));
    }
}
