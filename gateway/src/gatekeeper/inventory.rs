//! `data.inventory`: Kubernetes objects filed as Gatekeeper's sync files them,
//! `cluster/<groupVersion>/<Kind>/<name>` and `namespace/<ns>/<groupVersion>/<Kind>/<name>`.
//! Namespace objects also answer namespace lookups (namespaceSelector, namespaceObject).

use std::sync::Arc;

use rego_runtime::Value;

use super::objects;

/// The inventory tree; cheap to clone (values are shared).
#[derive(Clone, Debug)]
pub struct Inventory {
    tree: Value,
    count: usize,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            tree: Value::empty_object(),
            count: 0,
        }
    }
}

impl Inventory {
    /// The tree templates see as `data.inventory`.
    pub fn tree(&self) -> &Value {
        &self.tree
    }

    /// How many objects are filed.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when nothing is filed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// True when both inventories are the same tree (no change in between).
    pub fn same_as(&self, other: &Inventory) -> bool {
        match (&self.tree, &other.tree) {
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Files `object`, replacing one with the same key.
    ///
    /// # Errors
    /// `resource <name> has no version` / `has no kind`, as Gatekeeper's target says.
    pub fn add(&mut self, object: &Value) -> Result<(), String> {
        let key = key(object)?;
        let replaced = insert(&mut self.tree, &key, object.clone());
        if !replaced {
            self.count += 1;
        }
        Ok(())
    }

    /// Removes the object with `object`'s key; true when one was filed.
    ///
    /// # Errors
    /// As [`Inventory::add`].
    pub fn remove(&mut self, object: &Value) -> Result<bool, String> {
        let key = key(object)?;
        let removed = remove(&mut self.tree, &key);
        if removed {
            self.count -= 1;
        }
        Ok(removed)
    }

    /// The Namespace object `name`, if filed (`cluster/v1/Namespace/<name>`).
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        ["cluster", "v1", "Namespace", name]
            .iter()
            .try_fold(&self.tree, |node, key| node.get(key))
    }

    /// Every filed object, cluster-scoped first, in key order.
    pub fn objects(&self) -> Vec<&Value> {
        let mut out = Vec::with_capacity(self.count);
        if let Some(cluster) = self.tree.get("cluster") {
            leaves(cluster, 3, &mut out);
        }
        if let Some(namespaced) = self.tree.get("namespace") {
            leaves(namespaced, 4, &mut out);
        }
        out
    }
}

fn leaves<'a>(node: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
    let Some(children) = node.as_object() else {
        return;
    };
    for child in children.values() {
        if depth == 1 {
            out.push(child);
        } else {
            leaves(child, depth - 1, out);
        }
    }
}

fn key(object: &Value) -> Result<Vec<String>, String> {
    let name = objects::name(object);
    let api_version = objects::api_version(object);
    if objects::version_of(api_version).is_empty() {
        return Err(format!(
            "invalid request object: resource {name} has no version"
        ));
    }
    let kind = objects::kind(object);
    if kind.is_empty() {
        return Err(format!(
            "invalid request object: resource {name} has no kind"
        ));
    }
    let namespace = objects::namespace(object);
    Ok(if namespace.is_empty() {
        vec![
            "cluster".to_string(),
            api_version.to_string(),
            kind.to_string(),
            name.to_string(),
        ]
    } else {
        vec![
            "namespace".to_string(),
            namespace.to_string(),
            api_version.to_string(),
            kind.to_string(),
            name.to_string(),
        ]
    })
}

/// Inserts `value` at `path`, creating objects on the way; true when it replaced one.
fn insert(node: &mut Value, path: &[String], value: Value) -> bool {
    if !matches!(node, Value::Object(_)) {
        *node = Value::empty_object();
    }
    let Value::Object(entries) = node else {
        return false;
    };
    let entries = Arc::make_mut(entries);
    let key = Value::string(&path[0]);
    if path.len() == 1 {
        return entries.insert(key, value).is_some();
    }
    let child = entries.entry(key).or_insert_with(Value::empty_object);
    insert(child, &path[1..], value)
}

/// Removes the leaf at `path`; parents stay, as OPA's store leaves them.
fn remove(node: &mut Value, path: &[String]) -> bool {
    let Value::Object(entries) = node else {
        return false;
    };
    let key = Value::string(&path[0]);
    if !entries.contains_key(&key) {
        return false;
    }
    let entries = Arc::make_mut(entries);
    if path.len() == 1 {
        return entries.remove(&key).is_some();
    }
    entries
        .get_mut(&key)
        .is_some_and(|child| remove(child, &path[1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json(json).expect("json")
    }

    #[test]
    fn files_objects_by_scope_group_version_kind_and_name() {
        let mut inventory = Inventory::default();
        let before = inventory.clone();
        inventory
            .add(&value(r#"{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"a","namespace":"shop"}}"#))
            .expect("add");
        inventory
            .add(&value(
                r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#,
            ))
            .expect("add");
        assert_eq!(inventory.len(), 2);
        assert!(!inventory.same_as(&before));
        assert!(
            inventory
                .tree()
                .get("namespace")
                .and_then(|n| n.get("shop"))
                .and_then(|n| n.get("networking.k8s.io/v1"))
                .and_then(|n| n.get("Ingress"))
                .and_then(|n| n.get("a"))
                .is_some()
        );
        assert!(inventory.namespace("shop").is_some());
        assert_eq!(inventory.objects().len(), 2);
        assert!(
            inventory
                .remove(&value(
                    r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#
                ))
                .expect("remove")
        );
        assert_eq!(inventory.len(), 1);
        assert!(
            inventory
                .add(&value(r#"{"kind":"X","metadata":{"name":"n"}}"#))
                .is_err()
        );
    }
}
