package lang.with

# `with` replacing input, data and functions.
greeting := sprintf("hello %s", [input.name])

greeting_for_bob := g if {
	g := greeting with input as {"name": "bob"}
}

adult_count := count(data.lang.sets.adults)

adult_count_mocked := n if {
	n := adult_count with data.people as {"x": {"age": 40}, "y": {"age": 10}}
}

double(x) := x * 2

doubled := double(input.n)

doubled_mocked := d if {
	d := doubled with double as triple
}

triple(x) := x * 3

quiet(s) := lower(s)

upper_mocked := u if {
	u := upper(input.s) with upper as quiet
}
