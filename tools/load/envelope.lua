-- wrk script for make faults / make soak: POSTs the login body with a valid device token
-- and checks EVERY response: the status line and the body's code agree, the body is exactly
-- one envelope docs/protocol.md gives for that code (message and error text included), with
-- the envelope's headers. Counts per status; prints them, and up to 3 bad responses, at the
-- end. Usage: wrk -s envelope.lua URL -- TOKEN [PHONE]

local alphabet = "[123456789ABCDEFGHJKLMNPQRSTVWXYZ]"
local code4 = alphabet:rep(4)
local ok_body = '^{"status":true,"code":200,"message":"Pairing code generated successfully",'
             .. '"data":{"pair_code":"' .. code4 .. '%-' .. code4 .. '","timeout":%d+}}$'
-- code -> {message, error} of docs/protocol.md (the backend's failures)
local failures = {
  [409] = {"Conflict", "Device is already logged in"},
  [429] = {"Too many requests", "Too many pairing requests"},
  [500] = {"Internal server error", "Failed to generate pairing code"},
  [502] = {"Bad gateway", "Invalid answer from the pairing backend"},
  [503] = {"Service unavailable", "Pairing backend is unavailable"},
  [504] = {"Gateway timeout", "Pairing backend did not answer in time"},
}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.body = '{"phone":"' .. (args[2] or "6281234567890") .. '"}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  counts = {}
  bad = 0
  samples = {}
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if k:lower() == name then return v end
  end
  return nil
end

local function valid(status, headers, body)
  if header(headers, "content-type") ~= "application/json" then return false end
  if header(headers, "cache-control") ~= "no-store" then return false end
  if status == 200 then return body:match(ok_body) ~= nil end
  local f = failures[status]
  if not f then return false end
  if status == 429 and not header(headers, "retry-after") then return false end
  return body == '{"status":false,"code":' .. status .. ',"message":"' .. f[1]
                 .. '","error":"' .. f[2] .. '"}'
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if not valid(status, headers, body) then
    bad = bad + 1
    if #samples < 3 then table.insert(samples, status .. " " .. body:sub(1, 200)) end
  end
end

function done(summary, latency, requests)
  local total, all_bad, statuses, shown = {}, 0, {}, {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
    all_bad = all_bad + t:get("bad")
    for _, s in ipairs(t:get("samples")) do
      if #shown < 3 then table.insert(shown, s) end
    end
  end
  for status in pairs(total) do table.insert(statuses, status) end
  table.sort(statuses)
  for _, status in ipairs(statuses) do
    io.write(string.format("STATUS %d %d\n", status, total[status]))
  end
  local e = summary.errors
  io.write(string.format("RESPONSES %d\nBAD %d\n", summary.requests, all_bad))
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\n",
                         e.connect, e.read, e.write, e.timeout))
  for _, s in ipairs(shown) do io.write("BAD_SAMPLE " .. s .. "\n") end
end
