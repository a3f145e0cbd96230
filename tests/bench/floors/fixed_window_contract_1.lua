-- fixed_window_contract_1.lua - the least a one-level fixed window costs
-- under rlc's contract (SPEC.md 6.3), written by hand: the tenant's config
-- version read with the counter (one MGET: a decision never acts on a
-- config a deploy has replaced), the server's clock (TIME: time is not the
-- client's), a window aligned to the epoch as the simulator's is, the
-- counter written in place, and the seven-field answer.  No rule lookup,
-- no argument checks, no shadow rules, no costs: a floor for cost only.
-- Against fixed_window_1.lua it shows what the contract itself costs.
-- KEYS[1] the version key, KEYS[2] the counter; ARGV: version, count,
-- window in ms.
local v = redis.call('MGET', KEYS[1], KEYS[2])
if v[1] ~= ARGV[1] then return redis.error_reply('config changed') end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local count, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local start = now - now % window
local used = 0
local st = v[2]
if st then
  local s, n = struct.unpack('dd', st)
  if s >= start then used = n else st = nil end
end
local left = start + window - now
if used + 1 > count then return {0, 'r', count - used, left, left, now, ''} end
if st then
  redis.call('SETRANGE', KEYS[2], '0', struct.pack('dd', start, used + 1))
else
  redis.call('SET', KEYS[2], struct.pack('dd', start, used + 1), 'PXAT', now + left + 1)
end
return {1, 'r', count - used - 1, left, 0, now, ''}
