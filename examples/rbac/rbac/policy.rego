package rbac

import rego.v1

# allow is the decision: no deny reason and a role that grants the request.
default allow := false

allow if {
	count(deny) == 0
	granted
}

user := data.rbac.users[input.user]

roles contains role if some role in user.roles

is_admin if "admin" in roles

granted if is_admin

granted if {
	some role in roles
	some grant in data.rbac.role_grants[role]
	grant.action == input.action
	grant.type == input.type
}

deny contains "unknown user" if not user

deny contains "inactive user" if user.active == false

deny contains msg if {
	input.type in data.rbac.restricted_types
	not is_admin
	input.action in {"delete", "approve"}
	msg := sprintf("%s on %s is restricted", [input.action, input.type])
}

deny contains "kind00: writes need the owning department" if {
	input.type == "kind00"
	input.action in {"create", "update"}
	not is_admin
	not "kind00" in data.rbac.department_types[user.department]
}

deny contains "kind01: writes need the owning department" if {
	input.type == "kind01"
	input.action in {"create", "update"}
	not is_admin
	not "kind01" in data.rbac.department_types[user.department]
}

deny contains "kind02: writes need the owning department" if {
	input.type == "kind02"
	input.action in {"create", "update"}
	not is_admin
	not "kind02" in data.rbac.department_types[user.department]
}

deny contains "kind03: writes need the owning department" if {
	input.type == "kind03"
	input.action in {"create", "update"}
	not is_admin
	not "kind03" in data.rbac.department_types[user.department]
}

deny contains "kind04: writes need the owning department" if {
	input.type == "kind04"
	input.action in {"create", "update"}
	not is_admin
	not "kind04" in data.rbac.department_types[user.department]
}

deny contains "kind05: writes need the owning department" if {
	input.type == "kind05"
	input.action in {"create", "update"}
	not is_admin
	not "kind05" in data.rbac.department_types[user.department]
}

deny contains "kind06: writes need the owning department" if {
	input.type == "kind06"
	input.action in {"create", "update"}
	not is_admin
	not "kind06" in data.rbac.department_types[user.department]
}

deny contains "kind07: writes need the owning department" if {
	input.type == "kind07"
	input.action in {"create", "update"}
	not is_admin
	not "kind07" in data.rbac.department_types[user.department]
}

deny contains "kind08: writes need the owning department" if {
	input.type == "kind08"
	input.action in {"create", "update"}
	not is_admin
	not "kind08" in data.rbac.department_types[user.department]
}

deny contains "kind09: writes need the owning department" if {
	input.type == "kind09"
	input.action in {"create", "update"}
	not is_admin
	not "kind09" in data.rbac.department_types[user.department]
}

deny contains "kind10: writes need the owning department" if {
	input.type == "kind10"
	input.action in {"create", "update"}
	not is_admin
	not "kind10" in data.rbac.department_types[user.department]
}

deny contains "kind11: writes need the owning department" if {
	input.type == "kind11"
	input.action in {"create", "update"}
	not is_admin
	not "kind11" in data.rbac.department_types[user.department]
}

deny contains "kind12: writes need the owning department" if {
	input.type == "kind12"
	input.action in {"create", "update"}
	not is_admin
	not "kind12" in data.rbac.department_types[user.department]
}

deny contains "kind13: writes need the owning department" if {
	input.type == "kind13"
	input.action in {"create", "update"}
	not is_admin
	not "kind13" in data.rbac.department_types[user.department]
}

deny contains "kind14: writes need the owning department" if {
	input.type == "kind14"
	input.action in {"create", "update"}
	not is_admin
	not "kind14" in data.rbac.department_types[user.department]
}

deny contains "kind15: writes need the owning department" if {
	input.type == "kind15"
	input.action in {"create", "update"}
	not is_admin
	not "kind15" in data.rbac.department_types[user.department]
}

deny contains "kind16: writes need the owning department" if {
	input.type == "kind16"
	input.action in {"create", "update"}
	not is_admin
	not "kind16" in data.rbac.department_types[user.department]
}

deny contains "kind17: writes need the owning department" if {
	input.type == "kind17"
	input.action in {"create", "update"}
	not is_admin
	not "kind17" in data.rbac.department_types[user.department]
}

deny contains "kind18: writes need the owning department" if {
	input.type == "kind18"
	input.action in {"create", "update"}
	not is_admin
	not "kind18" in data.rbac.department_types[user.department]
}

deny contains "kind19: writes need the owning department" if {
	input.type == "kind19"
	input.action in {"create", "update"}
	not is_admin
	not "kind19" in data.rbac.department_types[user.department]
}

deny contains "kind20: writes need the owning department" if {
	input.type == "kind20"
	input.action in {"create", "update"}
	not is_admin
	not "kind20" in data.rbac.department_types[user.department]
}

deny contains "kind21: writes need the owning department" if {
	input.type == "kind21"
	input.action in {"create", "update"}
	not is_admin
	not "kind21" in data.rbac.department_types[user.department]
}

deny contains "kind22: writes need the owning department" if {
	input.type == "kind22"
	input.action in {"create", "update"}
	not is_admin
	not "kind22" in data.rbac.department_types[user.department]
}

deny contains "kind23: writes need the owning department" if {
	input.type == "kind23"
	input.action in {"create", "update"}
	not is_admin
	not "kind23" in data.rbac.department_types[user.department]
}

deny contains "kind24: writes need the owning department" if {
	input.type == "kind24"
	input.action in {"create", "update"}
	not is_admin
	not "kind24" in data.rbac.department_types[user.department]
}

deny contains "kind25: writes need the owning department" if {
	input.type == "kind25"
	input.action in {"create", "update"}
	not is_admin
	not "kind25" in data.rbac.department_types[user.department]
}

deny contains "kind26: writes need the owning department" if {
	input.type == "kind26"
	input.action in {"create", "update"}
	not is_admin
	not "kind26" in data.rbac.department_types[user.department]
}

deny contains "kind27: writes need the owning department" if {
	input.type == "kind27"
	input.action in {"create", "update"}
	not is_admin
	not "kind27" in data.rbac.department_types[user.department]
}

deny contains "kind28: writes need the owning department" if {
	input.type == "kind28"
	input.action in {"create", "update"}
	not is_admin
	not "kind28" in data.rbac.department_types[user.department]
}

deny contains "kind29: writes need the owning department" if {
	input.type == "kind29"
	input.action in {"create", "update"}
	not is_admin
	not "kind29" in data.rbac.department_types[user.department]
}

deny contains "kind30: writes need the owning department" if {
	input.type == "kind30"
	input.action in {"create", "update"}
	not is_admin
	not "kind30" in data.rbac.department_types[user.department]
}

deny contains "kind31: writes need the owning department" if {
	input.type == "kind31"
	input.action in {"create", "update"}
	not is_admin
	not "kind31" in data.rbac.department_types[user.department]
}

deny contains "kind32: writes need the owning department" if {
	input.type == "kind32"
	input.action in {"create", "update"}
	not is_admin
	not "kind32" in data.rbac.department_types[user.department]
}

deny contains "kind33: writes need the owning department" if {
	input.type == "kind33"
	input.action in {"create", "update"}
	not is_admin
	not "kind33" in data.rbac.department_types[user.department]
}

deny contains "kind34: writes need the owning department" if {
	input.type == "kind34"
	input.action in {"create", "update"}
	not is_admin
	not "kind34" in data.rbac.department_types[user.department]
}

deny contains "kind35: writes need the owning department" if {
	input.type == "kind35"
	input.action in {"create", "update"}
	not is_admin
	not "kind35" in data.rbac.department_types[user.department]
}

deny contains "kind36: writes need the owning department" if {
	input.type == "kind36"
	input.action in {"create", "update"}
	not is_admin
	not "kind36" in data.rbac.department_types[user.department]
}

deny contains "kind37: writes need the owning department" if {
	input.type == "kind37"
	input.action in {"create", "update"}
	not is_admin
	not "kind37" in data.rbac.department_types[user.department]
}

deny contains "kind38: writes need the owning department" if {
	input.type == "kind38"
	input.action in {"create", "update"}
	not is_admin
	not "kind38" in data.rbac.department_types[user.department]
}

deny contains "kind39: writes need the owning department" if {
	input.type == "kind39"
	input.action in {"create", "update"}
	not is_admin
	not "kind39" in data.rbac.department_types[user.department]
}

action_read if input.action == "read"

action_list if input.action == "list"

action_create if input.action == "create"

action_update if input.action == "update"

action_delete if input.action == "delete"

action_approve if input.action == "approve"

audit_level contains 0 if {
	count(roles) > 0
	input.action == "read"
}

audit_level contains 1 if {
	count(roles) > 1
	input.action == "list"
}

audit_level contains 2 if {
	count(roles) > 2
	input.action == "create"
}

audit_level contains 3 if {
	count(roles) > 3
	input.action == "update"
}

audit_level contains 4 if {
	count(roles) > 0
	input.action == "delete"
}

audit_level contains 5 if {
	count(roles) > 1
	input.action == "approve"
}

audit_level contains 6 if {
	count(roles) > 2
	input.action == "read"
}

audit_level contains 7 if {
	count(roles) > 3
	input.action == "list"
}

audit_level contains 8 if {
	count(roles) > 0
	input.action == "create"
}

audit_level contains 9 if {
	count(roles) > 1
	input.action == "update"
}

audit_level contains 10 if {
	count(roles) > 2
	input.action == "delete"
}

audit_level contains 11 if {
	count(roles) > 3
	input.action == "approve"
}

audit_level contains 12 if {
	count(roles) > 0
	input.action == "read"
}

audit_level contains 13 if {
	count(roles) > 1
	input.action == "list"
}

audit_level contains 14 if {
	count(roles) > 2
	input.action == "create"
}

audit_level contains 15 if {
	count(roles) > 3
	input.action == "update"
}

audit_level contains 16 if {
	count(roles) > 0
	input.action == "delete"
}

audit_level contains 17 if {
	count(roles) > 1
	input.action == "approve"
}

audit_level contains 18 if {
	count(roles) > 2
	input.action == "read"
}

audit_level contains 19 if {
	count(roles) > 3
	input.action == "list"
}

audit_level contains 20 if {
	count(roles) > 0
	input.action == "create"
}

audit_level contains 21 if {
	count(roles) > 1
	input.action == "update"
}

audit_level contains 22 if {
	count(roles) > 2
	input.action == "delete"
}

audit_level contains 23 if {
	count(roles) > 3
	input.action == "approve"
}

audit_level contains 24 if {
	count(roles) > 0
	input.action == "read"
}

audit_level contains 25 if {
	count(roles) > 1
	input.action == "list"
}

audit_level contains 26 if {
	count(roles) > 2
	input.action == "create"
}

audit_level contains 27 if {
	count(roles) > 3
	input.action == "update"
}

audit_level contains 28 if {
	count(roles) > 0
	input.action == "delete"
}

audit_level contains 29 if {
	count(roles) > 1
	input.action == "approve"
}

audit_level contains 30 if {
	count(roles) > 2
	input.action == "read"
}

audit_level contains 31 if {
	count(roles) > 3
	input.action == "list"
}

audit_level contains 32 if {
	count(roles) > 0
	input.action == "create"
}

audit_level contains 33 if {
	count(roles) > 1
	input.action == "update"
}

audit_level contains 34 if {
	count(roles) > 2
	input.action == "delete"
}

audit_level contains 35 if {
	count(roles) > 3
	input.action == "approve"
}

audit_level contains 36 if {
	count(roles) > 0
	input.action == "read"
}

audit_level contains 37 if {
	count(roles) > 1
	input.action == "list"
}

audit_level contains 38 if {
	count(roles) > 2
	input.action == "create"
}

audit_level contains 39 if {
	count(roles) > 3
	input.action == "update"
}

audit_level contains 40 if {
	count(roles) > 0
	input.action == "delete"
}

audit_level contains 41 if {
	count(roles) > 1
	input.action == "approve"
}

audit_level contains 42 if {
	count(roles) > 2
	input.action == "read"
}

audit_level contains 43 if {
	count(roles) > 3
	input.action == "list"
}
