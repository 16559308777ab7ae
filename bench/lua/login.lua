-- POST /login as an OAuth2 password-flow form, rotating through this thread's share of the demo
-- users' emails (BENCH_IDS_FILE); they all share BENCH_PASSWORD.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local emails = nil
local password = ""
local position = 0

function init(args)
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   password = common.url_encode(os.getenv("BENCH_PASSWORD") or "")
   emails = common.my_share(common.read_lines(os.getenv("BENCH_IDS_FILE")))
end

function request()
   if emails == nil then -- wrk's own check of the script, before init()
      return wrk.format("POST", "/login", nil, "username=&password=")
   end
   position = position % #emails + 1
   local body = "username=" .. common.url_encode(emails[position]) .. "&password=" .. password
   return wrk.format("POST", "/login", nil, body)
end
