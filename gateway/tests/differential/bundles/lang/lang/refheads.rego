package lang.refheads

# Rule heads with dots and multi-value rules.
limits.cpu := "500m"

limits.memory := "1Gi"

routes[path].methods contains method if {
	some route in input.routes
	path := route.path
	some method in route.methods
}

flags.debug if input.debug

flags.verbose if input.verbose
