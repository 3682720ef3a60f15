-- wrk script: sends "Authorization: Bearer <token>" with a token read from a file.
--
--   wrk -tT ... -s token-pool.lua URL -- TOKEN_FILE ORDER T
--
-- ORDER "sequential": thread i of T uses lines i+1, i+1+T, i+1+2T, ... in order, so no token
-- repeats until a thread has used its whole share; done() prints how often that happened.
-- ORDER "random": every request picks any line at random (for token sets small enough to fit
-- every contestant's cache).

local threads = {}
local next_id = 0

-- Runs in wrk's main Lua state once per thread, before that thread's init().
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  random_order = args[2] == "random"
  local thread_count = tonumber(args[3] or "1")

  local all = {}
  for line in io.lines(path) do
    if #line > 0 then all[#all + 1] = line end
  end
  tokens = {}
  for index = id + 1, #all, thread_count do tokens[#tokens + 1] = all[index] end
  if #tokens == 0 then error("token-pool: no tokens for thread " .. id .. " in " .. path) end

  position = 0
  wraps = 0
  headers = {}
end

function request()
  local token
  if random_order then
    token = tokens[math.random(#tokens)]
  else
    position = position + 1
    if position > #tokens then
      position = 1
      wraps = wraps + 1
    end
    token = tokens[position]
  end
  headers["Authorization"] = "Bearer " .. token
  return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("token-pool: thread %d had %d tokens and started over %d times\n",
      thread:get("id"), #(thread:get("tokens") or {}), thread:get("wraps") or 0))
  end
end
