#!/usr/bin/env python3
"""Writes examples/rbac: an RBAC bundle with ~100 rules and ~1,000 data entries.

Deterministic: the same files every run. `make run` serves the result and `make bench`
measures it against real OPA.
"""
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "rbac")
rng = random.Random(20261125)

TYPES = [f"kind{i:02d}" for i in range(40)]
ACTIONS = ["read", "list", "create", "update", "delete", "approve"]
ROLES = [f"role{i:02d}" for i in range(30)]

users = {}
users["alice"] = {"roles": ["admin"], "department": "platform", "active": True}
users["bob"] = {"roles": ["role00", "role01"], "department": "sales", "active": True}
for i in range(900):
    users[f"user{i:04d}"] = {
        "roles": sorted(rng.sample(ROLES, rng.randint(1, 3))),
        "department": rng.choice(["sales", "platform", "finance", "support"]),
        "active": rng.random() > 0.05,
    }
grants = {}
for role in ROLES:
    grants[role] = sorted(
        ({"action": rng.choice(ACTIONS), "type": rng.choice(TYPES)} for _ in range(rng.randint(2, 5))),
        key=lambda g: (g["type"], g["action"]),
    )
grants["role00"].append({"action": "read", "type": "dog"})
data = {
    "users": users,
    "role_grants": grants,
    "restricted_types": sorted(rng.sample(TYPES, 8)),
    "department_types": {d: sorted(rng.sample(TYPES, 10)) for d in ["sales", "platform", "finance", "support"]},
}

rules = [
    "package rbac",
    "",
    "import rego.v1",
    "",
    "# allow is the decision: no deny reason and a role that grants the request.",
    "default allow := false",
    "",
    "allow if {",
    "\tcount(deny) == 0",
    "\tgranted",
    "}",
    "",
    "user := data.rbac.users[input.user]",
    "",
    "roles contains role if some role in user.roles",
    "",
    "is_admin if \"admin\" in roles",
    "",
    "granted if is_admin",
    "",
    "granted if {",
    "\tsome role in roles",
    "\tsome grant in data.rbac.role_grants[role]",
    "\tgrant.action == input.action",
    "\tgrant.type == input.type",
    "}",
    "",
    "deny contains \"unknown user\" if not user",
    "",
    "deny contains \"inactive user\" if user.active == false",
    "",
    "deny contains msg if {",
    "\tinput.type in data.rbac.restricted_types",
    "\tnot is_admin",
    "\tinput.action in {\"delete\", \"approve\"}",
    "\tmsg := sprintf(\"%s on %s is restricted\", [input.action, input.type])",
    "}",
    "",
]
# One rule per resource type and action family, as large RBAC policies grow them.
for t in TYPES:
    rules += [
        f"deny contains \"{t}: writes need the owning department\" if {{",
        f"\tinput.type == \"{t}\"",
        "\tinput.action in {\"create\", \"update\"}",
        "\tnot is_admin",
        f"\tnot \"{t}\" in data.rbac.department_types[user.department]",
        "}",
        "",
    ]
for a in ACTIONS:
    rules += [
        f"action_{a} if input.action == \"{a}\"",
        "",
    ]
for i in range(44):
    rules += [
        f"audit_level contains {i} if {{",
        f"\tcount(roles) > {i % 4}",
        f"\tinput.action == \"{ACTIONS[i % len(ACTIONS)]}\"",
        "}",
        "",
    ]

os.makedirs(os.path.join(OUT, "rbac"), exist_ok=True)
with open(os.path.join(OUT, ".manifest"), "w") as f:
    json.dump({"revision": "rbac-example-1", "roots": ["rbac"]}, f, indent=2)
    f.write("\n")
with open(os.path.join(OUT, "rbac", "policy.rego"), "w") as f:
    f.write("\n".join(rules))
with open(os.path.join(OUT, "rbac", "data.json"), "w") as f:
    json.dump(data, f, indent=1, sort_keys=True)
    f.write("\n")
rule_count = sum(1 for line in rules if line and not line.startswith(("\t", "}", "#", "package", "import")))
print(f"wrote {OUT}: {rule_count} rules, {len(users)} users")
