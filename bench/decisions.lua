-- wrk script: POST /v1/data/rbac/allow with inputs that vary per request (users, actions and
-- resource types drawn from the example bundle), so no answer can be served from a cache.
local users = {"alice", "bob", "user0001", "user0002", "user0003", "user0004", "user0010",
               "user0100", "user0250", "user0500", "user0899", "nobody"}
local actions = {"read", "list", "create", "update", "delete", "approve"}
local types = {"dog", "kind00", "kind05", "kind08", "kind14", "kind17", "kind24", "kind33"}
local bodies = {}
for _, u in ipairs(users) do
  for _, a in ipairs(actions) do
    for _, t in ipairs(types) do
      bodies[#bodies + 1] = string.format(
        '{"input":{"user":"%s","action":"%s","type":"%s"}}', u, a, t)
    end
  end
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "/v1/data/rbac/allow", nil, bodies[(i % #bodies) + 1])
end
