package lang.strings

# String and regex builtins.
formatted := sprintf("%s is %d years old (%.2f%%) %v", [input.name, input.age, input.ratio, input.tags])

parts := split(input.csv, ",")

joined := concat("-", parts)

replaced := replace(input.text, "foo", "bar")

cases := {"upper": upper(input.text), "lower": lower(input.text)}

trimmed := {"trim": trim(input.padded, " "), "space": trim_space(input.padded), "prefix": trim_prefix(input.text, "foo"), "suffix": trim_suffix(input.text, "baz")}

checks := {"starts": startswith(input.text, "foo"), "ends": endswith(input.text, "baz"), "contains": contains(input.text, "o b"), "index": indexof(input.text, "b")}

numbers := {"hex": format_int(input.n, 16), "bin": format_int(input.n, 2), "parsed": to_number(input.numeric)}

matches := regex.match(`^[a-z]+-[0-9]+$`, input.id)

found := regex.find_n(`[0-9]+`, input.text_with_numbers, -1)

split_re := regex.split(`[,;]\s*`, input.list)

templated := strings.replace_n({"{name}": input.name, "{age}": format_int(input.age, 10)}, "{name} ({age})")

substr := substring(input.text, 2, 5)

globbed := glob.match("*.example.com", ["."], input.host)

reversed := strings.reverse(input.text)

counted := strings.count(input.text, "o")

prefixed := strings.any_prefix_match(input.paths, ["/api", "/admin"])
