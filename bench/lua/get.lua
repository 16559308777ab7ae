-- GET the URL given to wrk, as the demo account (BENCH_TOKEN) when a token is set.
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

function init(args)
   common.auth_headers()
end
