-- wrk script: every request is a path picked at random from a list (bench/run.py's
-- "rotating mix"), so a response cache sees many distinct URLs, not one repeated URL.
--
--   wrk -t2 -c32 -d8s --latency -s bench/mix.lua http://127.0.0.1:8000 -- PATHS SEED
--
-- PATHS: a file with one path (and query string) a line. SEED: an integer; thread n
-- draws from math.randomseed(SEED + n), so two servers benchmarked with the same seed and
-- aligned path lists get the same sequence of queries per thread.
-- No response() callback: it would cost wrk throughput; wrk counts non-2xx/3xx answers
-- itself ("Non-2xx or 3xx responses"), which bench/run.py reads.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local requests = {}
local count = 0

function init(args)
  local paths, seed = args[1], tonumber(args[2])
  assert(paths and seed, "usage: wrk ... -s mix.lua URL -- PATHS SEED")
  local file = assert(io.open(paths, "r"))
  for line in file:lines() do
    if #line > 0 then
      count = count + 1
      requests[count] = wrk.format("GET", line) -- formatted once, not per request
    end
  end
  file:close()
  assert(count > 0, "no paths in " .. paths)
  math.randomseed(seed + (thread_number or 0))
end

function request()
  return requests[math.random(count)]
end
