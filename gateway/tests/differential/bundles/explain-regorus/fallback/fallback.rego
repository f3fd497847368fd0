# `with` on data leaves this package's evaluations to regorus, which records the notes but not
# the rules they were made in.
package fallback

allow if {
	trace("in fallback")
	input.x == 1
}

mocked if {
	allow with data.fallback.z as 1
}
