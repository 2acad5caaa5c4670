-- wrk script: POSTs the body in BODY_FILE with HEADERS ("name: value" lines, "\n"-joined),
-- optionally waits DELAY_MS between requests per connection (paced arrival), and prints
-- one JSON line of results at the end (latencies in microseconds).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
for line in string.gmatch(os.getenv("HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

-- Each connection waits an exponentially distributed time with mean DELAY_MS, so the
-- connections' requests arrive spread out (close to Poisson) rather than in step. A fixed
-- pause keeps the connections in the lockstep they start in: all of them send within
-- the same millisecond, and the figures measure how fast a burst of hundreds drains.
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  -- Seeded per thread: with one seed, both threads would wait in step.
  math.randomseed(os.time() * 100 + (thread_id or 0))
end
if pause > 0 then
  function delay()
    return math.floor(-pause * math.log(1 - math.random()) + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
