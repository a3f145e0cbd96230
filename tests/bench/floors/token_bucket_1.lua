-- token_bucket_1.lua - the hand-written floor the bench compares rlc's
-- one-level token bucket against: one key, server time, the state as two
-- packed doubles, one read and one write with an expiry.  Not rlc's exact
-- integer arithmetic (doubles round), so it is a floor for cost, not a
-- reference for decisions.
-- KEYS[1] the bucket; ARGV: burst, refill in tokens per ms, cost.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local burst, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('GET', KEYS[1])
local tokens, ts = burst, now
if v then tokens, ts = struct.unpack('dd', v) end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
if tokens < cost then
  return {0, math.floor(tokens), math.ceil((cost - tokens) / rate)}
end
tokens = tokens - cost
redis.call('SET', KEYS[1], struct.pack('dd', tokens, now), 'PX',
  math.ceil((burst - tokens) / rate) + 1)
return {1, math.floor(tokens), 0}
