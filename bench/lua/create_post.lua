-- POST /posts/ with a JSON body. Titles start with "[bench] " so bench/probe.py cleanup
-- deletes these posts afterwards and the database stays at its seeded size.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local counter = 0

function init(args)
   common.auth_headers()
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"title": "[bench] post %d-%d", "content": "%s", "published": true}',
      thread_index or 0,
      counter,
      "Written by the benchmark harness; deleted when the run ends."
   )
   return wrk.format("POST", "/posts/", nil, body)
end
