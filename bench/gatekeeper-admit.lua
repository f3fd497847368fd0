-- wrk script: POST an AdmissionReview file to /v1/admit, as the API server calls the webhook.
-- Environment: REVIEW (path of the AdmissionReview JSON), DELAY_MS (pause per request on each
-- connection, to hold a fixed load below peak; 0 or unset for peak).
local file = assert(io.open(os.getenv("REVIEW"), "r"))
local body = file:read("*a")
file:close()
local pause = tonumber(os.getenv("DELAY_MS") or "0")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body
request = function()
  return wrk.format(nil, "/v1/admit")
end
if pause > 0 then
  delay = function()
    return pause
  end
end
