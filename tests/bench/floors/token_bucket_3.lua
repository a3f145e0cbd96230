-- token_bucket_3.lua - the hand-written floor for three levels (tenant,
-- group, key): three token buckets decided all-or-nothing (a rejection
-- charges none of them), one MGET, then one SET with an expiry per bucket
-- when admitted.  Same state and arithmetic as token_bucket_1.lua.
-- KEYS[1..3] the buckets; ARGV: burst and refill per ms of each, then cost.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local cost = tonumber(ARGV[7])
local vs = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local tokens, least, retry = {}, nil, 0
for i = 1, 3 do
  local burst, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tk, ts = burst, now
  if vs[i] then tk, ts = struct.unpack('dd', vs[i]) end
  tk = math.min(burst, tk + math.max(0, now - ts) * rate)
  if tk < cost then retry = math.max(retry, math.ceil((cost - tk) / rate)) end
  tokens[i] = tk
end
if retry > 0 then return {0, 0, retry} end
for i = 1, 3 do
  local burst, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tk = tokens[i] - cost
  if not least or tk < least then least = tk end
  redis.call('SET', KEYS[i], struct.pack('dd', tk, now), 'PX',
    math.ceil((burst - tk) / rate) + 1)
end
return {1, math.floor(least), 0}
