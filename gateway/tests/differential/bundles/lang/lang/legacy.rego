package lang.legacy

# Rego v0 syntax, selected by the manifest's file_rego_versions.
import future.keywords.in

violation[msg] {
	container := input.containers[_]
	not startswith(container.image, "registry.local/")
	msg := sprintf("image %v is not from the local registry", [container.image])
}

violation[msg] {
	container := input.containers[_]
	container.privileged
	msg := sprintf("container %v is privileged", [container.name])
}

tier(x) = "high" {
	x > 10
} else = "low" {
	true
}

tiers := [tier(x) | x := input.xs[_]]

allow {
	count(violation) == 0
}
