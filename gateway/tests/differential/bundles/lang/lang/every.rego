package lang.every

# every, some ... in, and negation.
all_https if {
	every server in data.servers {
		"https" in server.protocols
	}
}

all_ports_allowed if {
	every port in input.ports {
		port in {80, 443, 8080}
	}
}

no_root_users if {
	every name, user in input.users {
		name != "root"
		user.uid != 0
	}
}

some_admin if {
	some user in input.users
	user.admin == true
}

not_blocked if not input.user in {"mallory", "eve"}

indexed contains [i, x] if some i, x in input.items
