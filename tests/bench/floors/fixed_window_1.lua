-- fixed_window_1.lua - the hand-written floor for a one-level fixed window:
-- one counter whose window starts at its first request (as
-- rate-limiter-flexible's does), INCRBY and, on the window's first
-- request, PEXPIRE.  Like that peer it charges a rejected request too.
-- KEYS[1] the counter; ARGV: limit, cost, window in ms.
local limit, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local c = redis.call('INCRBY', KEYS[1], cost)
if c == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if c > limit then return {0, 0} end
return {1, limit - c}
