-- wrk script: each request uses the next hub token (one per simulated learner) and the
-- next path from the list; POSTs carry a JSON body. Set by the environment:
--   CL_TOKENS  comma-separated tokens      CL_PATHS  "|"-separated "METHOD path" entries
--   CL_BODY    JSON body for POSTs         CL_OUT    file to write the summary JSON to
local tokens, paths, counter = {}, {}, 0

for t in string.gmatch(os.getenv("CL_TOKENS") or "", "[^,]+") do table.insert(tokens, t) end
for p in string.gmatch(os.getenv("CL_PATHS") or "", "[^|]+") do
  local method, path = string.match(p, "^(%S+) (.+)$")
  table.insert(paths, {method = method, path = path})
end
local body = os.getenv("CL_BODY")

function setup(thread)
  thread:set("offset", math.random(1, 100000))
end

function request()
  counter = counter + 1
  local i = counter + (offset or 0)
  local token = tokens[(i % #tokens) + 1]
  local p = paths[(i % #paths) + 1]
  local headers = {["Authorization"] = "token " .. token}
  if p.method == "POST" then
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", p.path, headers, body)
  end
  return wrk.format(p.method, p.path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  local out = io.open(os.getenv("CL_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
  out:close()
end
