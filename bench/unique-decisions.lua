-- wrk script: POST /v1/data/rbac/allow where every request has an input not seen before
-- (a counter in the input), so a decision cache never hits: the engine's own speed.
local users = {"alice", "bob", "user0001", "user0002", "user0004", "user0100", "user0500", "nobody"}
local actions = {"read", "list", "create", "update", "delete", "approve"}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local body = string.format('{"input":{"user":"%s","action":"%s","type":"kind%02d","request_id":%d}}',
    users[(i % #users) + 1], actions[(i % #actions) + 1], i % 40, i)
  return wrk.format(nil, "/v1/data/rbac/allow", nil, body)
end
