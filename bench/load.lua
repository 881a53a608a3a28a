-- wrk script: optional random ids, method, body and headers in, one machine-readable line out.
--
-- Arguments after `--`:
--   random N             append a random integer in [1, N] to the URL's path (and query)
--   method NAME          send this method instead of GET
--   body TEXT            send this body with every request
--   header NAME VALUE    send this header on every request
-- The summary line `BENCH key=value ...` is what bench/load.py parses: the
-- percentiles come from wrk's full latency histogram, not its rounded text.

local random_max = nil
local static_request = nil
local next_thread_id = 0

function setup(thread)
  next_thread_id = next_thread_id + 1
  thread:set("thread_id", next_thread_id)
end

function init(args)
  local i = 1
  while i <= #args do
    if args[i] == "random" then
      random_max = tonumber(args[i + 1])
      i = i + 2
    elseif args[i] == "method" then
      wrk.method = args[i + 1]
      i = i + 2
    elseif args[i] == "body" then
      wrk.body = args[i + 1]
      i = i + 2
    elseif args[i] == "header" then
      wrk.headers[args[i + 1]] = args[i + 2]
      i = i + 3
    else
      error("unknown argument: " .. args[i])
    end
  end
  -- Each thread gets its own sequence of ids.
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  static_request = wrk.format()
end

function request()
  if random_max then
    return wrk.format(nil, wrk.path .. math.random(1, random_max))
  end
  return static_request
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.timeout, errors.status
  ))
end
