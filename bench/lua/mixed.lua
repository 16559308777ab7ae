-- Many members at once, each with its own token: every request is drawn at random from the mix
-- (BENCH_MIX, "key=share,..."; bench/scenarios.py's MIX) and sent as a random member of this
-- thread's share. No member is on two threads, so each member's votes go in order: it sweeps
-- its own pool (posts it had not voted on) with dir 1, then again with dir 0, as vote.lua does,
-- and nearly every vote is a 201. Its dir 0 on a post comes a whole sweep of its own votes
-- after its dir 1, far more requests than a thread has in flight.
--
-- Environment (set by bench/run.py; the tokens are in a file, never on the command line):
--   BENCH_MEMBERS_FILE   a line per member: its access token, then its pool's post ids
--   BENCH_POST_IDS_FILE  every public post's id, for GET /posts/{id}
--   BENCH_USER_IDS_FILE  every user's id, for GET /users/{id}
--   BENCH_COMMENTED_IDS_FILE  the public posts with comments, for GET /posts/{id}/comments
--   BENCH_TITLE_PREFIX   what new posts' titles start with, so probe.py cleanup finds them
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local members = nil
local post_ids, user_ids, commented_ids
local title_prefix = ""
local counter = 0
local first = true
-- The mix as a cumulative table: builders[i] is drawn when a uniform draw falls below bounds[i].
local builders, bounds = {}, {}

local function headers(token, content_type)
   local result = {}
   for name, value in pairs(wrk.headers) do -- Host, as wrk set it
      result[name] = value
   end
   result["Authorization"] = "Bearer " .. token
   result["Content-Type"] = content_type
   return result
end

local function list_first(member)
   return wrk.format("GET", "/posts/?limit=10", member.read)
end

local kinds = {
   list_first = list_first,
   list_deep = function(member)
      return wrk.format("GET", "/posts/?limit=10&skip=" .. 10 * math.random(1, 99), member.read)
   end,
   post_detail = function(member)
      return wrk.format("GET", "/posts/" .. post_ids[math.random(#post_ids)], member.read)
   end,
   user_detail = function(member)
      return wrk.format("GET", "/users/" .. user_ids[math.random(#user_ids)], member.read)
   end,
   feed = function(member)
      return wrk.format("GET", "/feed?limit=20", member.read)
   end,
   comments = function(member)
      local post_id = commented_ids[math.random(#commented_ids)]
      return wrk.format("GET", "/posts/" .. post_id .. "/comments?limit=20", member.read)
   end,
   notifications = function(member)
      return wrk.format("GET", "/notifications?limit=20", member.read)
   end,
   comment_create = function(member)
      counter = counter + 1
      local body = string.format(
         '{"content": "%scomment %d-%d: written by the benchmark harness."}',
         title_prefix,
         thread_index or 0,
         counter
      )
      local path = "/posts/" .. post_ids[math.random(#post_ids)] .. "/comments"
      return wrk.format("POST", path, member.write, body)
   end,
   vote = function(member)
      member.position = member.position + 1
      if member.position > #member.pool then
         member.position = 1
         member.sweep = member.sweep + 1
      end
      local dir = (member.sweep % 2 == 0) and 1 or 0
      local body = string.format('{"post_id": %s, "dir": %d}', member.pool[member.position], dir)
      return wrk.format("POST", "/vote/", member.write, body)
   end,
   post_create = function(member)
      counter = counter + 1
      local body = string.format(
         '{"title": "%smixed %d-%d", "content": "%s", "published": true}',
         title_prefix,
         thread_index or 0,
         counter,
         "Written by the benchmark harness; deleted when the run ends."
      )
      return wrk.format("POST", "/posts/", member.write, body)
   end,
}

function init(args)
   math.randomseed(os.time() * 16 + (thread_index or 0))
   title_prefix = os.getenv("BENCH_TITLE_PREFIX")
   post_ids = common.read_lines(os.getenv("BENCH_POST_IDS_FILE"))
   user_ids = common.read_lines(os.getenv("BENCH_USER_IDS_FILE"))
   commented_ids = common.read_lines(os.getenv("BENCH_COMMENTED_IDS_FILE"))
   local total = 0
   for key, share in os.getenv("BENCH_MIX"):gmatch("([%w_]+)=([%d%.]+)") do
      assert(kinds[key], "BENCH_MIX: unknown request " .. key)
      total = total + tonumber(share)
      table.insert(builders, kinds[key])
      table.insert(bounds, total)
   end
   assert(#builders > 0, "BENCH_MIX is empty")
   for i = 1, #bounds do
      bounds[i] = bounds[i] / total
   end
   members = {}
   for _, line in ipairs(common.my_share(common.read_lines(os.getenv("BENCH_MEMBERS_FILE")))) do
      local fields = {}
      for field in line:gmatch("%S+") do
         table.insert(fields, field)
      end
      local token = table.remove(fields, 1)
      table.insert(members, {
         read = headers(token, nil),
         write = headers(token, "application/json"),
         pool = fields,
         position = 0,
         sweep = 0,
      })
   end
end

function request()
   if members == nil then -- wrk's own check of the script, before init()
      return wrk.format("GET", "/posts/?limit=10")
   end
   local member = members[math.random(#members)]
   if first then
      -- wrk checks the script by calling request() once and discarding the answer: a plain
      -- read, so no vote it never sends puts a member's sweep out of step.
      first = false
      return list_first(member)
   end
   local draw = math.random()
   for i = 1, #bounds do
      if draw < bounds[i] then
         return builders[i](member)
      end
   end
   return builders[#builders](member)
end
