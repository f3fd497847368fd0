package lang.objects

# Partial objects, object builtins and nested refs.
ports_by_server[server.id] := server.ports if some server in data.servers

env_of[server.id] := env if {
	some server in data.servers
	env := object.get(server.tags, "env", "none")
}

managers[name] := person.manager if some name, person in data.people

merged := object.union(input.defaults, input.overrides)

filtered := json.filter(input.doc, input.paths)

removed := json.remove(input.doc, input.paths)

keys := object.keys(input.doc)

subset if object.subset(input.doc, input.part)

chain := managers[managers[input.name]]
