package lang.errors

# Runtime errors: conflicts, and builtin errors with and without strict mode.
conflict := "a" if input.a

conflict := "b" if input.b

number := to_number(input.value)

object_conflict[k] := v if {
	some k, v in input.first
}

object_conflict[k] := v if {
	some k, v in input.second
}

divided := input.x / input.y
