-- POST /vote/ toggling: each thread sweeps its own share of posts (none voted on by the demo
-- account beforehand) with dir 1, then sweeps them again with dir 0, and so on. A post's dir 0
-- comes a whole sweep after its dir 1, long after that finished (a sweep is far longer than the
-- requests a thread has in flight), so nearly every request should be a 201; anything else is
-- counted and reported.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local ids = nil
local position = 0
local sweep = 0

function init(args)
   common.auth_headers()
   wrk.headers["Content-Type"] = "application/json"
   ids = common.my_share(common.read_lines(os.getenv("BENCH_IDS_FILE")))
end

function request()
   if ids == nil then -- wrk's own check of the script, before init()
      return wrk.format("POST", "/vote/", nil, '{"post_id": 0, "dir": 1}')
   end
   position = position + 1
   if position > #ids then
      position = 1
      sweep = sweep + 1
   end
   local dir = (sweep % 2 == 0) and 1 or 0
   local body = string.format('{"post_id": %s, "dir": %d}', ids[position], dir)
   return wrk.format("POST", "/vote/", nil, body)
end
