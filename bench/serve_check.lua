-- wrk script for bench/bench_serve.py: cycles through the payloads req1..reqN of
-- the folder in MATX_BENCH_DIR, checks every answer byte for byte against
-- ans<id> (the answer verified beforehand, chosen by the "id" the server
-- echoes), stops after MATX_BENCH_LIMIT answers (0: no limit; it then writes
-- the file MATX_BENCH_DIR/limit, and the bench ends wrk with SIGINT) and
-- prints one WRKRESULT JSON line.
local dir = os.getenv("MATX_BENCH_DIR")
local n = tonumber(os.getenv("MATX_BENCH_N"))
local limit = tonumber(os.getenv("MATX_BENCH_LIMIT") or "0")
local path = os.getenv("MATX_BENCH_PATH")
local threads = {}

local function readfile(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests_, expected = {}, {}
  for k = 1, n do
    requests_[k] = wrk.format("POST", path, {["Content-Type"] = "application/json"}, readfile(dir .. "/req" .. k))
    expected[k] = readfile(dir .. "/ans" .. k)
  end
  i, sent, answers, failures = 0, 0, 0, 0
end

function request()
  i = i % n + 1
  sent = sent + 1
  return requests_[i]
end

function response(status, headers, body)
  answers = answers + 1
  local id = tonumber(string.match(body, '"id":"(%d+)"'))
  if status ~= 200 or id == nil or body ~= expected[id] then
    failures = failures + 1
  end
  if limit > 0 and answers == limit then
    local f = io.open(dir .. "/limit", "w")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local f, s, a = 0, 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("failures")
    s = s + t:get("sent")
    a = a + t:get("answers")
  end
  local e = summary.errors
  io.write(string.format('WRKRESULT {"answers": %d, "sent": %d, "failures": %d, "seconds": %f, ' ..
    '"p50": %f, "p99": %f, "errors": %d}\n', a, s, f, summary.duration / 1e6, latency:percentile(50) / 1e6,
    latency:percentile(99) / 1e6, e.connect + e.read + e.write + e.timeout))
end
