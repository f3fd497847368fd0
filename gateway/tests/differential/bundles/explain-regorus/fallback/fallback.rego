# `with` on data leaves `mocked` to regorus, which records the notes but not the rules they
# were made in; `allow` alone still runs on the compiled evaluator.
package fallback

allow if {
	trace("in fallback")
	input.x == 1
}

mocked if {
	allow with data.fallback.z as 1
}
