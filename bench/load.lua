-- wrk script for bench/load.py: one scenario per run, chosen by environment variables.
--
--   WRK_SCENARIO   plain (GET the URL's path, no cookie), step (GET a step page), save (POST a
--                  step), pull (sync API, no changes), push (sync API, one new change)
--   WRK_SESSIONS   file made by load.py, one family a line, tab-separated:
--                  Cookie header, url-encoded csrf_token, revision
--   WRK_STEP       step id (step, save, push); WRK_FLOW flow id; WRK_VERSION flow version
--   WRK_THINK_MS   "min,max": each connection waits a random time between its requests (a
--                  family reading the page); wrk does not count the wait in the latency
--   WRK_GZIP       "1": send Accept-Encoding as a phone's browser does (the app compresses)
--
-- wrk has no per-connection hook, so each thread keeps its own share of the families and every
-- request takes the next family in turn: 16 connections on 64 families behave like 64 phones.
-- done() prints one line "WRK_JSON {...}" with the figures; load.py reads it.

local scenario = os.getenv("WRK_SCENARIO") or "plain"
local flow = os.getenv("WRK_FLOW") or "kindergarten-shanghai"
local step_id = os.getenv("WRK_STEP") or "hukou"
local version = os.getenv("WRK_VERSION") or "1"
local think_min, think_max = nil, nil
do
  local spec = os.getenv("WRK_THINK_MS")
  if spec and spec ~= "" then
    local a, b = spec:match("^(%d+),(%d+)$")
    think_min, think_max = tonumber(a), tonumber(b)
  end
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local families = {}
local turn = 0
local counter = 0
statuses = {}  -- global: done() reads it from each thread with thread:get

local function read_families(path, nthreads, me)
  local all = {}
  for line in io.lines(path) do
    local cookie, csrf, revision = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    if cookie then
      table.insert(all, {cookie = cookie, csrf = csrf, revision = revision})
    end
  end
  local mine = {}
  for i, f in ipairs(all) do
    if (i - 1) % nthreads == me then table.insert(mine, f) end
  end
  if #mine == 0 then mine = all end
  return mine
end

local function base_headers(f)
  local h = {}
  if f then h["Cookie"] = f.cookie end
  if os.getenv("WRK_GZIP") == "1" then h["Accept-Encoding"] = "gzip, deflate, br" end
  return h
end

local step_path = "/f/" .. flow .. "/" .. step_id
local sync_path = "/api/v1/flows/" .. flow .. "/sync"
local prebuilt = {}

function init(args)
  tid = tonumber(tid) or 0  -- set by setup() in this thread's globals
  math.randomseed(os.time() + tid * 7919)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  if scenario ~= "plain" then
    families = read_families(os.getenv("WRK_SESSIONS"), nthreads, tid)
  end
  -- Requests that never change are formatted once.
  if scenario == "plain" then
    prebuilt = {wrk.format("GET", wrk.path, base_headers(nil))}
  elseif scenario == "step" then
    for i, f in ipairs(families) do
      prebuilt[i] = wrk.format("GET", step_path, base_headers(f))
    end
  elseif scenario == "save" then
    for i, f in ipairs(families) do
      local h = base_headers(f)
      h["Content-Type"] = "application/x-www-form-urlencoded"
      local body = "csrf_token=" .. f.csrf .. "&revision=" .. f.revision
                   .. "&hukou=other_province"
      prebuilt[i] = wrk.format("POST", step_path, h, body)
    end
  elseif scenario == "pull" then
    local body = '{"version": ' .. version .. ', "changes": []}'
    for i, f in ipairs(families) do
      local h = base_headers(f)
      h["Content-Type"] = "application/json"
      h["X-Wizard-Sync"] = "1"
      prebuilt[i] = wrk.format("POST", sync_path, h, body)
    end
  end
end

function request()
  turn = turn + 1
  if scenario == "push" then
    -- Every change is new (a replayed id would only be looked up): checked, saved, recorded.
    local f = families[(turn - 1) % #families + 1]
    counter = counter + 1
    local id = string.format("wrkload%02d%016d", tid, counter)
    local h = base_headers(f)
    h["Content-Type"] = "application/json"
    h["X-Wizard-Sync"] = "1"
    local body = '{"version": ' .. version .. ', "changes": [{"id": "' .. id
                 .. '", "step": "' .. step_id .. '", "values": {"hukou": "other_province"},'
                 .. ' "base_revision": null}]}'
    return wrk.format("POST", sync_path, h, body)
  end
  return prebuilt[(turn - 1) % #prebuilt + 1]
end

if think_min then
  function delay()
    return math.random(think_min, think_max)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then
      for code, n in pairs(s) do merged[tostring(code)] = (merged[tostring(code)] or 0) + n end
    end
  end
  local parts = {}
  for code, n in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {"connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status,
    e.timeout, table.concat(parts, ", ")))
end
