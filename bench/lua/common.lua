-- Shared by every scenario script: thread numbering, status counting, the JSON report.
--
-- A scenario script does `dofile(<this directory> .. "common.lua")` first, then defines its own
-- init() and request(). wrk runs setup() and done() in its main Lua state and the rest in each
-- thread's own state; setup() hands every thread its number, done() gathers their counts.
--
-- Environment (set by bench/run.py, never on the command line where `ps` shows it):
--   BENCH_TOKEN     the access token for the Authorization header (absent: no header)
--   BENCH_IDS_FILE  one id (or email) per line, for scripts that rotate through them
--   BENCH_THREADS   wrk's -t, so each thread can take its own share of those ids

local common = {}

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

-- Per thread: responses by status code. Read by done() through thread:get().
statuses = {}

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
end

function common.auth_headers()
   local token = os.getenv("BENCH_TOKEN")
   if token and token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
end

function common.read_lines(path)
   local lines = {}
   local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
   for line in file:lines() do
      if line ~= "" then
         table.insert(lines, line)
      end
   end
   file:close()
   assert(#lines > 0, "no lines in " .. path)
   return lines
end

-- This thread's share of a list: every n-th item from its own offset, so no two threads meet.
function common.my_share(items)
   local index = thread_index or 0
   local count = tonumber(os.getenv("BENCH_THREADS") or "1")
   local mine = {}
   for i = index + 1, #items, count do
      table.insert(mine, items[i])
   end
   if #mine == 0 then
      mine = items
   end
   return mine
end

function common.url_encode(text)
   return (text:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", string.byte(c))
   end))
end

local function encode_string(text)
   return '"' .. text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

local function encode(value)
   local kind = type(value)
   if kind == "table" then
      local parts = {}
      for k, v in pairs(value) do
         table.insert(parts, encode_string(tostring(k)) .. ":" .. encode(v))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   elseif kind == "number" then
      if value ~= value or value == math.huge or value == -math.huge then
         return "null"
      end
      return string.format("%.17g", value)
   elseif kind == "string" then
      return encode_string(value)
   end
   return "null"
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses") or {}
      for code, n in pairs(counts) do
         merged[code] = (merged[code] or 0) + n
      end
   end
   local percentiles = {}
   for _, p in ipairs({50, 75, 90, 99, 99.9}) do
      percentiles[tostring(p)] = latency:percentile(p)
   end
   local report = {
      duration_us = summary.duration,
      requests = summary.requests,
      bytes = summary.bytes,
      errors = summary.errors,
      latency_us = {
         min = latency.min,
         max = latency.max,
         mean = latency.mean,
         stdev = latency.stdev,
         percentiles = percentiles,
      },
      statuses = merged,
   }
   io.write("BENCH_JSON " .. encode(report) .. "\n")
end

return common
