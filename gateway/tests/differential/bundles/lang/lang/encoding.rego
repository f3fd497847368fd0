package lang.encoding

# JSON, YAML, base64, URL encoding and units.
marshalled := json.marshal(input.doc)

unmarshalled := json.unmarshal(input.text)

valid := {"json": json.is_valid(input.text), "yaml": yaml.is_valid(input.yaml)}

yaml_doc := yaml.unmarshal(input.yaml)

encoded := {"b64": base64.encode(input.raw), "b64url": base64url.encode(input.raw), "hex": hex.encode(input.raw)}

decoded := base64.decode(input.b64)

query := urlquery.encode_object(input.params)

decoded_query := urlquery.decode_object(input.query)

patched := json.patch(input.doc, input.patch)

bytes := units.parse_bytes(input.size)

version_order := semver.compare(input.a, input.b)

cidr := net.cidr_contains(input.cidr, input.ip)
