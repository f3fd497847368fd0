package lang.funcs

# Functions: multiple definitions, recursion through helpers, composition.
is_even(x) if x % 2 == 0

kind(x) := "even" if is_even(x)

kind(x) := "odd" if not is_even(x)

kinds := [kind(x) | some x in input.xs]

clamp(x, lo, hi) := max([lo, min([x, hi])])

clamped := [clamp(x, 0, 10) | some x in input.xs]

full_name(p) := concat(" ", [p.first, p.last])

names := [full_name(p) | some p in input.people]

sum_ports := sum([port | some server in data.servers; some port in server.ports])

stats := {"sum": sum(input.xs), "max": max(input.xs), "min": min(input.xs), "product": product(input.xs), "sorted": sort(input.xs)}
