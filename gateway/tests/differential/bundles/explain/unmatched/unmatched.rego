# Notes the gateway explains differently from OPA (see known-differences.yaml).
package unmatched

# OPA's rule index skips this body when input.user is not "admin", notes and all.
indexed contains "admin" if {
	trace("checking the user")
	input.user == "admin"
}

comprehension := [x | some x in [1, 2]; trace("in comprehension")]

negated if not hidden

hidden if {
	trace("in hidden")
	false
}
