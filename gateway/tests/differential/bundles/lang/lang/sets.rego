package lang.sets

# Partial sets, set operators and membership.
insecure contains server.id if {
	some server in data.servers
	some protocol in server.protocols
	protocol in {"http", "telnet"}
}

adults contains name if {
	some name, person in data.people
	person.age >= 21
}

in_groups contains name if {
	some name, person in data.people
	some group in person.groups
	group in input.groups
}

union := adults | in_groups

both := adults & in_groups

only_adults := adults - in_groups

has_member if input.name in adults

sizes := {"adults": count(adults), "insecure": count(insecure)}
