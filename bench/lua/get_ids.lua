-- GET a path template such as /posts/{id}, with {id} rotating through this thread's share of
-- BENCH_IDS_FILE, so a cache of one object cannot pass for the endpoint's speed.
-- wrk args: the path template.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local template = "/"
local ids = nil
local position = 0

function init(args)
   template = args[1] or template
   common.auth_headers()
   ids = common.my_share(common.read_lines(os.getenv("BENCH_IDS_FILE")))
end

function request()
   if ids == nil then -- wrk's own check of the script, before init()
      return wrk.format("GET", template)
   end
   position = position % #ids + 1
   return wrk.format("GET", (template:gsub("{id}", ids[position])))
end
