# Rules that call trace(), for explain=notes: OPA's explanation lists each note and the
# queries and rules that led to it.
package notes

allow if {
	helper
	trace("in allow")
}

helper if {
	trace("in helper")
}

deny contains x if {
	some x in input.xs
	trace(sprintf("x=%v", [x]))
}

f(a) := b if {
	trace("in f")
	b := a + 1
}

g := f(1)

two if {
	trace("first")
	trace("second")
}

# OPA stops at the first definition that gives the same constant value.
two if {
	trace("other definition")
}

level := "a" if {
	trace("first branch")
	false
} else := "b" if {
	trace("else branch")
}

masked if {
	helper with input as {}
}

quiet := 1

failing if {
	trace("before failing")
	some x in [1]
	x > 2
}

escaped if trace("quote \" backslash \\ tab \t done")
