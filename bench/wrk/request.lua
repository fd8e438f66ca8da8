-- wrk script for the benchmark: one request, built from environment
-- variables, and a JSON summary line on stdout at the end.
--   WRK_METHOD       GET (default), POST, ...
--   WRK_HEADERS      "Name: value|Name: value"
--   WRK_BODY_FILE    file whose content is the request body
--   WRK_COUNT_STATUS 1: count responses per status class (2xx/4xx/5xx)

wrk.method = os.getenv("WRK_METHOD") or "GET"
local hdrs = os.getenv("WRK_HEADERS") or ""
for pair in string.gmatch(hdrs, "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
local body_file = os.getenv("WRK_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("WRK_COUNT_STATUS") == "1" then
  c2, c3, c4, c5 = 0, 0, 0, 0
  function response(status, headers, body)
    if status >= 500 then c5 = c5 + 1
    elseif status >= 400 then c4 = c4 + 1
    elseif status >= 300 then c3 = c3 + 1
    else c2 = c2 + 1 end
  end
end

function done(summary, latency, requests)
  local s2, s3, s4, s5 = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s2 = s2 + (t:get("c2") or 0)
    s3 = s3 + (t:get("c3") or 0)
    s4 = s4 + (t:get("c4") or 0)
    s5 = s5 + (t:get("c5") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"err_connect": %d, "err_read": %d, "err_write": %d, "err_status": %d, ' ..
    '"err_timeout": %d, "s2xx": %d, "s3xx": %d, "s4xx": %d, "s5xx": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, s2, s3, s4, s5))
end
