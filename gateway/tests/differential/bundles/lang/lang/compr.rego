package lang.compr

# Array, set and object comprehensions.
ids := [server.id | some server in data.servers]

all_ports := {port | some server in data.servers; some port in server.ports}

ages := {name: person.age | some name, person in data.people}

squares := [(x * x) | some x in numbers.range(1, input.n)]

nested := {group: members |
	some group in {"dev", "ops", "exec"}
	members := {name | some name, person in data.people; group in person.groups}
}

evens := [x | some x in input.xs; x % 2 == 0]
