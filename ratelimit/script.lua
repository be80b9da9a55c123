-- Checks and charges one call's limits in one step (see gcra.go).
-- KEYS[i] is a counter; ARGV holds three numbers per key:
--   a bucket: 0, its interval (µs), its tolerance (µs);
--   a quota:  its limit (> 0), the end of its period (unix seconds), 0.
-- Every counter admits the call, and all are charged; or none is.
-- Returns {admitted (1 or 0), now (µs), then per key the bucket's TAT
-- (µs) or the quota's calls used, after the decision}.
-- Time is Redis's own clock, so gateways whose clocks differ share one
-- limit exactly.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local vals, nexts = {}, {}
local all = 1
for i = 1, n do
  local limit = tonumber(ARGV[3 * i - 2])
  local cur = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  vals[i] = cur
  if limit > 0 then
    nexts[i] = cur + 1
    if nexts[i] > limit then all = 0 end
  else
    local tat = cur
    if tat < now then tat = now end
    nexts[i] = tat + tonumber(ARGV[3 * i - 1])
    if nexts[i] - now > tonumber(ARGV[3 * i]) then all = 0 end
  end
end
if all == 1 then
  for i = 1, n do
    local v = string.format('%d', nexts[i])
    if tonumber(ARGV[3 * i - 2]) > 0 then
      redis.call('SET', KEYS[i], v, 'EXAT', ARGV[3 * i - 1])
    else
      -- A bucket is forgotten once full again: its TAT has passed.
      redis.call('SET', KEYS[i], v, 'PX', math.floor((nexts[i] - now) / 1000) + 1)
    end
    vals[i] = nexts[i]
  end
end
local out = {all, now}
for i = 1, n do out[i + 2] = vals[i] end
return out
