#!lua name=rlc
-- enforce.lua - the rlc enforcement library: one call decides one request
-- inside Redis (SPEC.md section 6).  Loaded with FUNCTION LOAD on Redis 7+
-- (this whole file; functions rlc_decide and rlc_release), or on older
-- servers with SCRIPT LOAD of the script the deploy makes of it (this text
-- minus its first line, which is not Lua, as a function, then the regions
-- marked for EVALSHA: see the first of them, below TEMPLATE) and
-- called with
--   EVALSHA sha 1 <active key> decide|release ARGS...
-- The algorithms are twins of runtime/algo.c and runtime/sim.c: every
-- number is an integer below 2^53, so Lua's doubles and C's int64 agree
-- bit for bit (the differential test checks it).  Numbers go to
-- redis.call as numbers: Redis prints integers below 10^17 exactly (with
-- %.17g, which costs more than the command itself: a constant argument
-- goes as a string).
-- Counter states are packed doubles (struct.pack 'dd' / 'ddd', and a log of
-- 'dd' entries for the exact sliding window): exact, and cheaper to read
-- than text.
--
-- decide:  KEYS[1] = {<ns>:<tenant>}:active
--          ARGV = path, method, route, cost, now_ms (client time only), lease id
--   -> {allowed, rule id, remaining, reset_ms, retry_ms, now_ms, lease, shadow ids...}
-- release: KEYS[1] as above; ARGV = path, method, route, lease id, now_ms (client
--          time only) -> {live leases released, now_ms}
-- Exactly these arguments (an unused one is sent empty); cost and now_ms are
-- decimal digits.  Anything else is RLC_BADARG.
-- activate: KEYS[1] as above; ARGV = config version, now_ms (client time only)
--          -> counters re-timed (the deploy's last step per tenant)
-- peek:    as decide, and the same answer, but nothing is written: the
--          decision the request would get now (`rlc decide --dry-run`).
--          Registered no-writes, so Redis itself refuses a write from it.

local LIBRARY_VERSION = 1

-- `tenant *`: the config of every tenant without an active key, put here by
-- the deploy (SPEC.md 6.2): {ns = namespace, ver = config version,
-- f = {field = value}}.  In the library and not in a key, because a
-- decision may only touch its own tenant's slot.
local TEMPLATE = nil

--[==[@evalsha
-- The script for EVALSHA (servers before Redis 7, SPEC.md 6.3) is made by
-- the deploy from this file (redis_library_evalsha): the whole library as
-- a function, full, then the regions marked "--@evalsha" and the comments
-- opened "--[==[@evalsha" (this one), in order, at the level of the
-- script's chunk.  The chunk runs on every call and nothing survives it,
-- so it makes only what the request needs: it answers `decide` of a
-- listed path, and any other operation or request the whole library
-- answers (full), before anything is written.
-- A deploy for EVALSHA writes beside each listed subject's field
-- "s/<path>" its twin, named by the path itself so that the name costs
-- no string (the tenant's: "p"): the meta field's time source and skew,
-- then packed (struct) the rules of every subject on the path that has
-- some, the tenant's first, the path's own last: what the library's walk
-- of the path finds (SPEC.md 6.2), read with one HGET and no number read
-- from text.  A path without a twin (a template's value, a name no config
-- lists, a path that reaches no rule), a tenant without an active key
-- (`tenant *`), a config without twins (deployed for FUNCTION LOAD) or a
-- missing one resolves in full.
-- Every function the chunk makes costs its upvalues and every table its
-- allocation and its share of the collector, on every call: the common
-- request (token buckets and fixed windows, server time on Redis 6.2+,
-- cost 1, no route) makes none but idiv and cdiv (no upvalues) and the
-- per-call tables sized for it; anything else (RARE) also makes the
-- helpers, the other algorithms and the route matcher below, as the
-- library has them.
local ARGV, redis = ARGV, redis
if ARGV[1] ~= 'decide' or #ARGV ~= 7 then return full() end
-- (tonumber and unpack are read as the globals they are.)
local call, sub, byte, sunpack, spack =
    redis.call, string.sub, string.byte, struct.unpack, struct.pack
-- PATH names the twin: it must start as a path does (group: or key:),
-- so that it never names the meta field, a rule field or the tenant's
-- twin, which the library refuses as paths.
local active, path = KEYS[1], ARGV[2]
local b = byte(path)
if not active or #active > 4096 or sub(active, -7) ~= ':active' or #path > 1024
    or (b and b ~= 103 and b ~= 107) or #ARGV[7] > 128 then
    return full()
end
local ver = call('GET', active)
if not ver then return full() end
local prefix = sub(active, 1, -8)
local v = call('HGET', prefix .. ':cfg:' .. ver, path == '' and 'p' or path)
if not v then return full() end
-- The time source, the skew and the first rule in one unpack: a twin
-- reaches at least one rule, and its name stands for its layout (config
-- format 1, whose meta field the library reads).
local tsrc, skew, id, kind, fl, n1, n2, n3, n4, pos = sunpack('<c1dBc0c1Bdddd', v)
-- REDIS_VERSION_NUM exists from Redis 7: older servers keep PX.
local vnum = redis.REDIS_VERSION_NUM
local has_pxat = (vnum or 0) >= 0x060200
local client = tsrc == 'c'
local RARE, routed = client or not has_pxat or ARGV[5] ~= '1', false
-- The rules, as the library's (parse_rules) are, and their counter keys
-- after the active key, as a plan's mkeys (the body of decide below reads
-- them as the library's does); sized for the common three levels, so that
-- neither is grown.
local rules, mk, n, len = {nil, nil, nil, nil}, {active, nil, nil, nil}, 0, #v
while true do
    n = n + 1
    mk[n + 1] = prefix .. ':c:' .. id
    local rule = {id = id, kind = kind, shadow = fl % 2 == 1, n1 = n1, n2 = n2, n3 = n3, n4 = n4}
    if fl >= 2 then
        local m, r
        m, r, pos = sunpack('<Bc0Hc0', v, pos)
        local segs = {}
        for s in string.gmatch(r, '[^/]+') do segs[#segs + 1] = s end
        rule.method, rule.segs, routed, RARE = m, segs, true, true
    end
    if kind ~= 'T' and kind ~= 'F' then RARE = true end
    rules[n] = rule
    if pos > len then break end
    id, kind, fl, n1, n2, n3, n4, pos = sunpack('<Bc0c1Bdddd', v, pos)
end
-- More than the walk allows: its error is the library's.
if n > 256 then return full() end
local DRY = false
local find, match, fmt, gmatch, concat
if RARE then
    find, match, fmt, gmatch, concat =
        string.find, string.match, string.format, string.gmatch, table.concat
end
-- Redis 5 and 6 may be set to replicate scripts verbatim, which forbids a
-- write after TIME: effects instead (7, which has REDIS_VERSION_NUM,
-- replicates nothing else).
if not vnum and redis.replicate_commands then redis.replicate_commands() end
--]==]
-- Whether this chunk stays loaded between calls (FUNCTION LOAD), so that
-- what it caches is used again; EVALSHA runs it afresh on every call.
local KEEPS = redis.register_function ~= nil

-- Set while peek runs decide: compute, write nothing.
local DRY = false

-- FUNCTION LOAD runs this chunk in a sandbox without math or string, so
-- the library's locals are bound on the first call (init), not here.
local floor, tonumber, fmt, find, sub, gsub, gmatch, match, call, unpack, concat, spack, sunpack, byte
local has_pxat

local function init()
    floor, tonumber, fmt, find, sub, gsub, gmatch, match = math.floor, _G.tonumber,
        string.format, string.find, string.sub, string.gsub, string.gmatch, string.match
    call, unpack, concat = redis.call, _G.unpack, table.concat
    spack, sunpack, byte = struct.pack, struct.unpack, string.byte
    -- REDIS_VERSION_NUM exists from Redis 7: older servers keep PX.
    has_pxat = (redis.REDIS_VERSION_NUM or 0) >= 0x060200
end

-- Everything else is made by build, in four nested sections (build2,
-- build3, build4 inside it, each at the head of its section): EVALSHA runs
-- the chunk on every call, and Lua 5.1 binds each local a new function
-- captures by walking the list of the locals already captured in its
-- scope, above it.  In one scope of ~100 locals that walk was most of what
-- an EVALSHA cost before it decided.  A function takes the locals of an
-- enclosing section from its section function's upvalues, a copy each, so
-- each walk is over one section's locals.
local function build()

--@evalsha
-- Exact floor division of integers (a >= 0, b > 0): fix up the rounded
-- quotient so the result never depends on how a/b was rounded.  q - q % 1
-- is floor(q) (Lua computes % as a - floor(a/b)*b, exactly for b = 1)
-- without the cost of calling math.floor, which a decision would pay a
-- dozen times.
local function idiv(a, b)
    local q = a / b
    q = q - q % 1
    local r = a - q * b
    if r < 0 then
        q = q - 1
    elseif r >= b then
        q = q + 1
    end
    return q
end

-- Exact ceiling division (a >= 0, b > 0): the floor, plus one when b does
-- not divide a.
local function cdiv(a, b)
    local q = a / b
    q = q - q % 1
    local r = a - q * b
    if r < 0 then
        q, r = q - 1, r + b
    elseif r >= b then
        q, r = q + 1, r - b
    end
    if r > 0 then q = q + 1 end
    return q
end


-- Expiries.  Redis counts PX from the start of the call, which can come
-- well before TIME when the server is busy; with server time a counter's
-- expiry is therefore set absolute (PXAT / PEXPIREAT, Redis 6.2 and later)
-- from the very `now` its state was computed at, so a slow call never
-- shortens it.  With client time (or an older server) it is relative: the
-- 2 x skew margin covers clocks that differ.  at_now is set per call;
-- has_pxat is declared with the other locals init binds.
local at_now
-- Made only where a request may need them (see the top of the file).
local ttl, set_px, bucket_ttl, pexpire
--@end
--[==[@evalsha
if RARE then
--]==]
--@evalsha
ttl = function(needed, skew)
    return needed + 2 * skew + 1
end

-- A state with its expiry.  A write that keeps the key's expiry is not
-- made here: decide overwrites the state in place (SETRANGE, which keeps
-- the expiry and answers a number, cheaper for Lua than SET's status).
set_px = function(key, val, ttl_ms)
    if at_now then
        call('SET', key, val, 'PXAT', at_now + ttl_ms)
    else
        call('SET', key, val, 'PX', ttl_ms)
    end
end

-- A bucket's expiry (token bucket, GCRA) moves later with every charge,
-- and a write that sets one costs about twice one that keeps it.  So under
-- server time its state carries the expiry last set (absolute ms, 0 when
-- unknown or relative): a write whose needed expiry is not later keeps it
-- (ttl false); otherwise the new expiry is set with a slack
-- of 1 s or 1/16 of the time to full, whichever is longer, so that a
-- bucket charged steadily sets it about once a second.  Returns the expiry to store and
-- the ttl for set_px (false: keep).
bucket_ttl = function(old_exp, reset, skew)
    local need = reset + 2 * skew + 1
    if not at_now then return 0, need end
    if old_exp >= at_now + need then return old_exp, false end
    local slack = reset / 16
    slack = slack - slack % 1
    if slack < 1000 then slack = 1000 end
    return at_now + need + slack, need + slack
end

pexpire = function(key, ttl_ms)
    if at_now then
        call('PEXPIREAT', key, at_now + ttl_ms)
    else
        call('PEXPIRE', key, ttl_ms)
    end
end
--@end
--[==[@evalsha
end
--]==]
--@evalsha

-- Redis TIME in ms.  Parsing a decimal string (strtod) costs more than a
-- decision's arithmetic: the seconds change once a second, so their value
-- is kept with their string (strings are interned: comparing them is one
-- pointer compare), and the milliseconds are the microseconds' leading
-- digits, read as bytes.
local sec_s, sec_ms = nil, 0
--@end
local function server_ms()
    local t = call('TIME')
    local s, u = t[1], t[2]
    if s ~= sec_s then sec_s, sec_ms = s, tonumber(s) * 1000 end
    local n = #u
    if n == 6 then
        local a, b, c = byte(u, 1, 3)
        return sec_ms + a * 100 + b * 10 + c - 5328
    elseif n == 5 then
        local a, b = byte(u, 1, 2)
        return sec_ms + a * 10 + b - 528
    elseif n == 4 then
        return sec_ms + byte(u, 1) - 48
    end
    return sec_ms
end
--@evalsha

local bad, int_arg
--@end
--[==[@evalsha
if RARE then
--]==]
--@evalsha
bad = function(msg)
    return redis.error_reply('RLC_BADARG ' .. msg)
end

-- A decimal integer argument below 2^53, or nil: digits only.  tonumber
-- alone also takes '1e3', ' 1', '0x10', '1.0' and '+1', which no caller
-- sends on purpose and which must not decide anything.
int_arg = function(s)
    if not s or #s > 16 or not match(s, '^%d+$') then return nil end
    local v = tonumber(s)
    if v >= 9007199254740992 then return nil end
    return v
end
--@end
--[==[@evalsha
end
--]==]

-- Bounded caches.  A cache holds at most 2 x cap entries in two
-- generations: an entry goes into the newer one; when that holds cap, the
-- older one is dropped and the newer becomes the older; an entry found in
-- the older one moves to the newer.  So a working set of up to cap entries
-- always hits, a larger one loses only what it used least recently, and
-- no call ever finds the whole cache gone at once (a cache dropped whole
-- when full makes every shape miss together, a cliff in the cost of the
-- calls that follow).  The two-key form (gen2_*) keeps a table per first
-- key in each generation, so that the hit costs two lookups and no string
-- is made; it moves entries one by one, so that a first key never carries
-- more than its recent entries over a generation.
-- A cache of things the deployed plan bounds (listed tenants, their
-- configs, listed paths) is sized by the plan, not by a constant alone:
-- its cap is cap plus the weight held by the cache named `by` (both its
-- generations), each entry of which weighs its field wf (1 without one).
-- So the configs held size the plans (a config weighs its fields), and the
-- tenants seen size the configs: a working set of listed shapes always
-- fits, however large the deploy, while what clients choose (values of a
-- template, URLs, names no config lists) never adds to a weight, and the
-- plans of paths they name are kept apart, in a cache of a constant cap,
-- so that they never push a listed shape out.
-- The older generation of a new cache is EMPTY, never written (gen_put
-- writes the newer one only): one table less per cache, which EVALSHA
-- makes afresh on every call.  NOGEN is a cache that holds nothing, for
-- the caches EVALSHA never fills.
local EMPTY = {}
local NOGEN = {new = EMPTY, old = EMPTY, n = 0, cap = 0, w = 0, wold = 0}
local function gen_new(cap, by, wf)
    return {new = {}, old = EMPTY, n = 0, cap = cap, by = by, wf = wf, w = 0, wold = 0}
end

-- A put first checks whether the newer generation is full (then it
-- becomes the older); written out in both puts, since under EVALSHA every
-- function of this file is made again on every call.
local function gen_put(c, k, v)
    local by = c.by
    if c.n >= c.cap + (by and by.w + by.wold or 0) then
        c.old, c.new, c.n, c.wold, c.w = c.new, {}, 0, c.w, 0
    end
    c.new[k] = v
    c.n = c.n + 1
    local wf = c.wf
    c.w = c.w + (wf and v[wf] or 1)
end

local function gen_get(c, k)
    local v = c.new[k]
    if v == nil then
        v = c.old[k]
        if v ~= nil then gen_put(c, k, v) end
    end
    return v
end

local function gen2_put(c, a, b, v)
    local by = c.by
    if c.n >= c.cap + (by and by.w + by.wold or 0) then
        c.old, c.new, c.n, c.wold, c.w = c.new, {}, 0, c.w, 0
    end
    local t = c.new[a]
    if not t then
        t = {}
        c.new[a] = t
    end
    t[b] = v
    c.n = c.n + 1
end


local function gen2_get(c, a, b)
    local t = c.new[a]
    local v = t and t[b]
    if v == nil then
        t = c.old[a]
        v = t and t[b]
        if v ~= nil then gen2_put(c, a, b, v) end
    end
    return v
end

local function build2()

-- Parsed configs, by config key: {m = meta, f = {field = rules|false},
-- reach = cache of route matchers and shapes}.  Config keys are named by
-- the digest of their content and never rewritten, so a cached parse can
-- not go stale.  Only FUNCTION LOAD keeps these between calls.
-- The version each active key was last seen at (false for none: tenant *):
-- one entry per listed tenant, which sizes cfgs (a working set of more
-- listed tenants than 4 096 keeps all their configs).  A config weighs its
-- fields (nf), which size the plans.
local seen = KEEPS and gen_new(65536) or NOGEN
local cfgs = gen_new(4096, seen, 'nf')
-- A field's value: one line per rule, "<id> <body>\n".  Parsing a body
-- (a pattern match and four decimal conversions, each a strtod) costs
-- about what a redis.call does, and the rules of a big config mostly share
-- a few bodies (every key "limit 100/1m" has the same one), so parsed
-- bodies are kept, by body, and a rule is its id plus a copy of its
-- body's fields.  Only FUNCTION LOAD keeps them between calls.
local bodies = gen_new(1024)
local function parse_body(body)
    local k, sh, n1, n2, n3, n4, m, r =
        match(body, '^(%u) (%d) (%d+) (%d+) (%d+) (%d+) (%S+) (%S+)$')
    if not k then return false end
    local b = {kind = k, shadow = sh == '1', n1 = tonumber(n1), n2 = tonumber(n2),
               n3 = tonumber(n3), n4 = tonumber(n4)}
    if m ~= '-' then
        -- The segments are shared by every rule of this body: never written.
        local segs = {}
        for s in gmatch(r, '[^/]+') do segs[#segs + 1] = s end
        b.method, b.segs = m, segs
    end
    return b
end

local function parse_rules(v)
    local out = {}
    local i, n = 1, #v
    while i <= n do
        local j = find(v, '\n', i, true) or n + 1
        local sp = find(v, ' ', i, true)
        if sp and sp < j and sp > i then
            local body = sub(v, sp + 1, j - 1)
            local b = gen_get(bodies, body)
            if b == nil then
                b = parse_body(body)
                gen_put(bodies, body, b)
            end
            if b then
                -- Seven fields: a table of up to eight keeps half the
                -- memory of one of nine, and the collector's work goes with
                -- the bytes the caches hold and each call makes.
                local rule = {id = sub(v, i, sp - 1), kind = b.kind, shadow = b.shadow,
                              n1 = b.n1, n2 = b.n2, n3 = b.n3, n4 = b.n4}
                if b.method then
                    rule.method, rule.segs = b.method, b.segs
                    out.routed = true
                end
                out[#out + 1] = rule
            end
        end
        i = j + 1
    end
    return out
end

--@evalsha
-- Routes.  The routed rules of a field (one subject's rule list) are
-- compiled once, when the field is first matched, into a tree per method,
-- one node per pattern prefix, children by literal segment and `*`; a
-- request's ROUTE is then matched by one walk over its segments per field
-- with routed rules, whatever URLs came before.  The rules it matches are
-- named by a signature: the sum of 2^(b-1) over their positions b among
-- the routed rules the path reaches, in order (exact up to 52 of them),
-- else a string of those positions.  A pattern `*` is one segment, a
-- trailing `*` one or more; a pattern of n segments without a trailing
-- `*` matches a route of exactly n (segments split on `/`, empty ones
-- skipped).
-- The route functions are made on first use: under EVALSHA every
-- function of this file is made again on every call, and most requests
-- reach no route.
local routes_lib
--@end
--[==[@evalsha
if routed then
--]==]
--@evalsha
routes_lib = function()
    local function route_node()
        return {lit = {}, ends = {}, tails = {}, esum = 0, tsum = 0}
    end

    -- The tree of list's routed rules ({roots = by method, depth = longest
    -- pattern, nr = how many}), or false: kept on the list.
    local function route_tree(list)
        local rt = list.rt
        if rt ~= nil then return rt end
        rt = false
        local b = 0
        for j = 1, #list do
            local r = list[j]
            if r.method then
                b = b + 1
                rt = rt or {roots = {}, depth = 0}
                local node = rt.roots[r.method]
                if not node then
                    node = route_node()
                    rt.roots[r.method] = node
                end
                local segs = r.segs
                local np = #segs
                if np > rt.depth then rt.depth = np end
                local tail = false
                for k = 1, np do
                    local s = segs[k]
                    if s == '*' and k == np then
                        tail = true
                    elseif s == '*' then
                        node.star = node.star or route_node()
                        node = node.star
                    else
                        local c = node.lit[s]
                        if not c then
                            c = route_node()
                            node.lit[s] = c
                        end
                        node = c
                    end
                end
                local bit = 2 ^ (b - 1)
                if tail then
                    node.tails[#node.tails + 1] = b
                    node.tsum = node.tsum + bit
                else
                    node.ends[#node.ends + 1] = b
                    node.esum = node.esum + bit
                end
            end
        end
        if rt then rt.nr = b end
        list.rt = rt
        return rt
    end

    -- The matcher of the routed rules in lists: {trees, offsets (routed
    -- rules in the lists before), depth, big = signatures are strings}, or
    -- nil when no rule has a route.
    local function route_matcher(lists)
        local M, off = nil, 0
        for i = 1, #lists do
            local list = lists[i]
            local rt = list and route_tree(list)
            if rt then
                M = M or {trees = {}, offs = {}, depth = 0}
                local k = #M.trees + 1
                M.trees[k], M.offs[k] = rt, off
                if rt.depth > M.depth then M.depth = rt.depth end
                off = off + rt.nr
            end
        end
        if M then M.big = off > 52 end
        return M
    end

    -- The route's segments, at most depth + 1 of them (a longer route matches
    -- what a route of depth + 1 segments matches).
    local SEG = {}
    local function route_split(route, depth)
        local m, i, n = 0, 1, #route
        while i <= n and m <= depth do
            local j = find(route, '/', i, true)
            if not j then
                m = m + 1
                SEG[m] = sub(route, i)
                break
            end
            if j > i then
                m = m + 1
                SEG[m] = sub(route, i, j - 1)
            end
            i = j + 1
        end
        return m
    end

    -- Every node a route reaches is visited once (a node sits at one depth).
    local function route_sum(node, i, m, sig)
        if i > m then return sig + node.esum end
        sig = sig + node.tsum
        local c = node.lit[SEG[i]]
        if c then sig = route_sum(c, i + 1, m, sig) end
        if node.star then sig = route_sum(node.star, i + 1, m, sig) end
        return sig
    end

    local function route_list(node, i, m, out, off)
        local from = node.tails
        if i > m then from = node.ends end
        for k = 1, #from do out[#out + 1] = from[k] + off end
        if i > m then return end
        local c = node.lit[SEG[i]]
        if c then route_list(c, i + 1, m, out, off) end
        if node.star then route_list(node.star, i + 1, m, out, off) end
    end

    -- The signature of the routed rules METHOD and ROUTE match.
    local function route_sig(M, method, route)
        local m = route_split(route, M.depth)
        local trees, offs = M.trees, M.offs
        local other = method ~= 'ANY'
        if not M.big then
            local sig = 0
            for k = 1, #trees do
                local roots = trees[k].roots
                local a, b = roots.ANY, other and roots[method]
                local s = 0
                if a then s = route_sum(a, 1, m, s) end
                if b then s = route_sum(b, 1, m, s) end
                sig = sig + s * 2 ^ offs[k]
            end
            return sig
        end
        local out = {}
        for k = 1, #trees do
            local roots = trees[k].roots
            local a, b = roots.ANY, other and roots[method]
            if a then route_list(a, 1, m, out, offs[k]) end
            if b then route_list(b, 1, m, out, offs[k]) end
        end
        table.sort(out)
        return ',' .. concat(out, ',')
    end

    -- Whether the routed rule at position b is in signature sig.
    local function route_in(sig, b)
        if type(sig) == 'number' then
            local bit = 2 ^ (b - 1)
            return sig % (2 * bit) >= bit
        end
        return find(sig .. ',', ',' .. b .. ',', 1, true) ~= nil
    end

    return {matcher = route_matcher, sig = route_sig, has = route_in}
end
--@end
--[==[@evalsha
end
--]==]
--@evalsha
local RT

--@end
-- Rate algorithms: each returns admit, remaining, reset, retry[, state, ttl].
-- The same decisions as runtime/algo.c, step for step; where a step is
-- written otherwise here (fewer divisions: Lua pays dearly for each
-- operation) a comment says why it is the same.

local function token_bucket(r, st, cost, now, skew)
    local W, C, B, k = r.n2, r.n1, r.n3, r.n4
    local cap = B * W
    local level, last, oexp = cap, now, 0
    if st then
        if #st == 24 then
            level, last, oexp = sunpack('ddd', st)
        else
            level, last = sunpack('dd', st)
        end
        if level > cap then level = cap end
    end
    local t = now
    if last > t then t = last end
    local off = t - now
    -- The refill, level + elapsed x C, capped: algo.c compares the elapsed
    -- time with the time to full instead, because its int64 product could
    -- overflow; a double past 2^53 only rounds, and stays past cap.
    if level < cap and t > last then
        level = level + (t - last) * C
        if level > cap then level = cap end
    end
    -- cost x k > B is cost > floor(B / k), the largest charge the bucket
    -- holds (algo.c's max_request), without a division.
    local units = cost * k * W
    if cost * k <= B and level >= units then
        local left = level - units
        -- cdiv(cap - left, C) and idiv(left, W), written out (this is the
        -- path most decisions take, and a call costs more than either).
        local a = cap - left
        local q = a / C
        q = q - q % 1
        local r = a - q * C
        if r < 0 then
            q, r = q - 1, r + C
        elseif r >= C then
            q, r = q + 1, r - C
        end
        if r > 0 then q = q + 1 end
        local reset = off + q
        q = left / W
        q = q - q % 1
        r = left - q * W
        if r < 0 then
            q = q - 1
        elseif r >= W then
            q = q + 1
        end
        -- bucket_ttl's common answer (keep the expiry) without the call.
        local exp, tt = oexp, false
        if not at_now or oexp < at_now + reset + 2 * skew + 1 then
            exp, tt = bucket_ttl(oexp, reset, skew)
        end
        return true, q, reset, 0, spack('ddd', left, t, exp), tt
    end
    local remaining, reset = idiv(level, W), off + cdiv(cap - level, C)
    if cost * k > B then return false, remaining, reset, -1 end
    return false, remaining, reset, off + cdiv(units - level, C)
end

-- The other algorithms are made on first use (algs): under EVALSHA every
-- function of this file is made again on every call, and most decisions
-- use one algorithm.  FUNCTION LOAD makes them at once.
local rate = {T = token_bucket}
--[==[@evalsha
-- decide writes the token bucket out: the script's rate holds what algs
-- adds, not token_bucket, which only activate (the whole library's) calls.
local rate = RARE and {}
--]==]
--@evalsha
local log_commit, algs
--@end
--[==[@evalsha
if RARE then
--]==]
--@evalsha
algs = function()
local function gcra(r, st, cost, now, skew)
    local W, C, B, k = r.n2, r.n1, r.n3, r.n4
    local cap = B * W
    local tat, frac, oexp = now, 0, 0
    if st then
        if #st == 24 then
            tat, frac, oexp = sunpack('ddd', st)
        else
            tat, frac = sunpack('dd', st)
        end
    end
    local t = now
    if tat > now then
        -- ceil(cap / C) >= 1, so only a tat ahead of now can be clamped;
        -- the rule keeps it once computed.
        local ahead_max = r.ahead_max
        if not ahead_max then
            ahead_max = cdiv(cap, C)
            r.ahead_max = ahead_max
        end
        if tat - now > ahead_max then t = tat - ahead_max end
    end
    local off = t - now
    if tat < t then tat, frac = t, 0 end
    local debt = (tat - t) * C + frac
    local units = cost * k * W
    if cost * k <= B and debt <= cap - units then
        local total = frac + units
        local debt2 = debt + units
        local q = idiv(total, C)
        local reset = off + cdiv(debt2, C)
        local exp, tt = bucket_ttl(oexp, reset, skew)
        return true, idiv(cap - debt2, W), reset, 0,
            spack('ddd', tat + q, total - q * C, exp), tt
    end
    local remaining = 0
    if debt < cap then remaining = idiv(cap - debt, W) end
    local reset = off + cdiv(debt, C)
    if cost * k > B then return false, remaining, reset, -1 end
    return false, remaining, reset, off + cdiv(debt - (cap - units), C)
end

local function fixed_window(r, st, cost, now, skew)
    local W, C, k = r.n2, r.n1, r.n4
    local start = idiv(now, W) * W
    local cnt, kept = 0, false
    if st then
        local a, b = sunpack('dd', st)
        if a >= start then start, cnt, kept = a, b, true end
    end
    local end_in = start + W - now
    -- n <= C - cnt implies n <= C: no charge past the count is admitted.
    local n = cost * k
    if n <= C - cnt then
        return true, C - cnt - n, end_in, 0, spack('dd', start, cnt + n),
            not (kept and at_now) and end_in + 2 * skew + 1
    end
    local reset = 0
    if cnt > 0 then reset = end_in end
    if n > C then return false, C - cnt, reset, -1 end
    return false, C - cnt, reset, end_in
end

local function approx_sliding_window(r, st, cost, now, skew)
    local W, C, k = r.n2, r.n1, r.n4
    local win = idiv(now, W) * W
    local start, prev, cur, kept = win, 0, 0, false
    if st then
        local a, b, c = sunpack('ddd', st)
        if a >= win then
            start, prev, cur, kept = a, b, c, true
        elseif a == win - W then
            prev = c
        end
    end
    local t = now
    if start > t then t = start end
    local weight = W - (t - start)
    local held = 0
    if prev > 0 then held = cdiv(prev * weight, W) end
    local remaining = C - cur - held
    if remaining < 0 then remaining = 0 end
    local reset = 0
    if cur > 0 then reset = start + 2 * W - now elseif prev > 0 then reset = start + W - now end
    local n = cost * k
    if n > C then return false, remaining, reset, -1 end
    if n <= C - cur and prev * weight <= (C - cur - n) * W then
        local cur2 = cur + n
        remaining = C - cur2 - held
        if remaining < 0 then remaining = 0 end
        reset = start + 2 * W - now
        return true, remaining, reset, 0, spack('ddd', start, prev, cur2),
            not (kept and at_now) and ttl(reset, skew)
    end
    local f = 0
    if n <= C - cur and prev > 0 then f = idiv((C - cur - n) * W, prev) end
    local d
    if f > 0 then
        d = weight - f
    else
        d = weight
        if cur > 0 then
            local e = W - idiv((C - n) * W, cur)
            if e > 0 then d = d + e end
        end
    end
    return false, remaining, reset, (t - now) + d
end

-- The exact sliding window.  The counter key holds a header, 'ddddd':
-- units held, entries, oldest entry's time, newest entry's time, newest
-- entry's units; the entries themselves, one per millisecond that charged
-- units, oldest first, are the list <counter key>:log of 'dd' (time,
-- units).  Only the header travels with every decision (a whole log through
-- Lua costs tens of microseconds per 16 KB); the list is read only when its oldest
-- entries may have left the window or a rejection needs the retry time.
-- Entries at or before t - W have left; t = max(now, newest), so the log
-- stays ordered when a clock goes back.  Returns the header to write and
-- how to change the list (drop from the front, then merge or push).
local function log_entries(key, from, to)
    return call('LRANGE', key .. ':log', from, to)
end

local function sliding_log(r, st, cost, now, skew, key)
    local W, C, k = r.n2, r.n1, r.n4
    local total, cnt, oldest, last, lastu = 0, 0, 0, 0, 0
    if st then total, cnt, oldest, last, lastu = sunpack('ddddd', st) end
    local t = now
    if cnt > 0 and last > t then t = last end
    local cut = t - W
    local drop = 0
    if cnt > 0 and oldest <= cut then
        if last <= cut then
            drop, total = cnt, 0
        else
            -- Some, not all, have left: find how many, and the new oldest.
            local from = 0
            while drop == from do
                local chunk = log_entries(key, from, from + 3)
                for i = 1, #chunk do
                    local et, eu = sunpack('dd', chunk[i])
                    if et > cut then oldest = et break end
                    total = total - eu
                    drop = drop + 1
                end
                from = from + 4
            end
        end
    end
    local left = cnt - drop
    local reset = 0
    if left > 0 then reset = last + W - now end
    if cost > idiv(C, k) then return false, C - total, reset, -1 end
    local n = cost * k
    if total + n <= C then
        local merge = left > 0 and last == t
        local hdr
        if merge then
            hdr = spack('ddddd', total + n, left, oldest, t, lastu + n)
        elseif left > 0 then
            hdr = spack('ddddd', total + n, left + 1, oldest, t, n)
        else
            hdr = spack('ddddd', n, 1, t, t, n)
        end
        reset = t + W - now
        return true, C - total - n, reset, 0,
            {hdr = hdr, drop = drop, merge = merge, t = t, units = merge and lastu + n or n},
            ttl(reset, skew)
    end
    -- The oldest entries leave first: the request fits once enough have
    -- (n <= C, so the walk ends inside the log).
    local need, freed, et, eu, from = total + n - C, 0, 0, 0, drop
    while freed < need do
        local chunk = log_entries(key, from, from + 7)
        for i = 1, #chunk do
            et, eu = sunpack('dd', chunk[i])
            freed = freed + eu
            if freed >= need then break end
        end
        from = from + 8
    end
    return false, C - total, reset, et + W - now
end

-- Writes an admitted exact sliding window: header, then the list.
log_commit = function(key, ch, ttl_ms)
    local lk = key .. ':log'
    if ch.drop > 0 then call('LTRIM', lk, ch.drop, -1) end
    local e = spack('dd', ch.t, ch.units)
    if ch.merge then call('LSET', lk, -1, e) else call('RPUSH', lk, e) end
    pexpire(lk, ttl_ms)
    set_px(key, ch.hdr, ttl_ms)
end

rate.G, rate.F, rate.L, rate.S = gcra, fixed_window, sliding_log, approx_sliding_window
return rate
end
--@end
--[==[@evalsha
end
--]==]
if KEEPS then algs() end

local function build3()

-- Resolved request shapes, kept between calls under FUNCTION LOAD only.
-- plans: (active key, path) -> the plan (the rules that apply under one
-- config version, their counter keys, and the MGET argument list: active
-- key first, so one MGET both checks the version and reads the states),
-- or, when a rule the path reaches has a route, a node {routes = the
-- route matcher, [signature] = plan}: a URL never seen before costs one
-- walk over its segments, not a new shape per URL.  A shape with per-value
-- counters (a template level) is resolved again on every call, from cached
-- fields and shapes.
-- Its cap is 4 096 plus the fields of the configs held (a listed path's
-- last subject is a field of its tenant's config), and those of `tenant *`.
-- jplans: the plans of paths that end at a name without a field (junk:
-- named by the client, or a listed subject without rules), 4 096 per
-- generation, the newer one read only.  A path is in one of the two.
local plans = KEEPS and gen_new(4096, cfgs) or NOGEN
local jplans = KEEPS and gen_new(4096) or NOGEN

-- The fields of config cfg (from key cfgkey) named in names, each as
-- its parsed rules or false when absent: from the whole config when it is
-- small, else one HMGET for those not cached.  last: names[1] is a
-- request's last subject, whose rules go into a plan that is kept
-- (plans): a field found is then not kept here too (an absent one is: a
-- template's values are all absent names).  Every table made in a call
-- costs the collector more the more the caches hold, so these reuse theirs.
local FMISS, FGOT = {}, {}
local function fields(cfg, cfgkey, names, out, last)
    if cfg.full then
        -- Every field is here: an absent name is no field, and is not
        -- remembered (the names of unlisted values are unbounded).
        local f = cfg.f
        for i = 1, #names do out[i] = f[names[i]] or false end
        return out
    end
    local c, a = cfg.fc, cfg.fa
    local miss, nmiss = FMISS, 0
    for i = 1, #names do
        local v = gen_get(c, names[i])
        if v == nil then v = gen_get(a, names[i]) end
        out[i] = v
        if v == nil then
            nmiss = nmiss + 1
            miss[nmiss] = names[i]
        end
    end
    if nmiss == 0 then return out end
    for i = nmiss + 1, #miss do miss[i] = nil end
    if not cfg.tried and KEEPS then
        -- A first miss: a config of at most 1024 fields is read whole, so
        -- that the names of unlisted values (one new name per value) cost
        -- a table lookup and no HMGET each.
        cfg.tried = true
        if cfg.nf <= 1024 then
            local kv = call('HGETALL', cfgkey)
            local f = {}
            -- The rule fields, "s" and "s/...": not the meta field, nor
            -- the twins a deploy for EVALSHA adds ("p" and the paths
            -- themselves, which start with a kind).
            for j = 1, #kv, 2 do
                if byte(kv[j]) == 115 then f[kv[j]] = parse_rules(kv[j + 1]) end
            end
            cfg.f, cfg.full, cfg.fc, cfg.fa = f, true, nil, nil
            for i = 1, #names do out[i] = f[names[i]] or false end
            return out
        end
    end
    -- Every name asked for is looked up once: a field (its config lists
    -- it) is kept in fc, which holds them all; a name that is none (the
    -- unbounded names of unlisted values) in fa, bounded.
    local vals = call('HMGET', cfgkey, unpack(miss, 1, nmiss))
    local k = 0
    for i = 1, #names do
        if out[i] == nil then
            k = k + 1
            local v = vals[k]
            if not v then
                out[i] = false
                gen_put(a, names[i], false)
            else
                v = parse_rules(v)
                out[i] = v
                if not (last and i == 1) then gen_put(c, names[i], v) end
            end
        end
    end
    return out
end

-- The fields a listed path reaches, for config_of (reused).
local PF = {}

-- The config a tenant is decided by: its active version's, or with no
-- active key `tenant *`'s (its namespace only).  Returns cfg, cfgkey or
-- nil, error reply.  path: the request's, whose fields an EVALSHA reads
-- with the meta field.
local function config_of(active, prefix, ver, path)
    if not ver then
        if TEMPLATE and sub(active, 1, #TEMPLATE.tagpre) == TEMPLATE.tagpre then
            if not TEMPLATE.f then
                local f, nf = {}, 0
                for k, v in pairs(TEMPLATE.raw) do f[k], nf = parse_rules(v), nf + 1 end
                TEMPLATE.f, TEMPLATE.full, TEMPLATE.nf = f, true, nf
                -- Every unlisted tenant shares the plans of its listed paths.
                if KEEPS then plans.cap = plans.cap + nf end
            end
            return TEMPLATE, ''
        end
        return nil, redis.error_reply('RLC_NOCONFIG no active config at ' .. active)
    end
    local cfgkey = prefix .. ':cfg:' .. ver
    local cfg = gen_get(cfgs, cfgkey)
    if not cfg then
        local m
        if KEEPS then
            m = call('HGET', cfgkey, 'm')
            -- Its fields (the meta field among them) are what its deploy
            -- lists: every one of them fits in its field cache.
            local nf = call('HLEN', cfgkey)
            cfg = {nf = nf, fc = gen_new(nf > 4096 and nf or 4096), fa = gen_new(4096)}
        else
            -- Nothing survives the call: one cache for both.
            local fc = gen_new(4096)
            cfg = {nf = 0, fc = fc, fa = fc}
            -- EVALSHA keeps nothing between calls: one HMGET reads the
            -- meta field and every field walk asks for when each level of
            -- PATH is listed (the listed subject's and its kind's
            -- template's beside it), instead of an HGET and an HMGET per
            -- level.  A level that turns out a template's reads the rest
            -- as before.
            local names, k, i, n, cur = PF, 2, 1, #path, 's'
            names[1], names[2] = 'm', 's'
            while i <= n and k < 18 do
                local j = find(path, '/', i, true)
                local seg = sub(path, i, (j or n + 1) - 1)
                local c = find(seg, ':', 1, true)
                if not c then break end
                local lf = cur .. '/' .. seg
                names[k + 1], names[k + 2] = lf, cur .. '/' .. sub(seg, 1, c - 1) .. '*'
                k, cur = k + 2, lf
                if not j then break end
                i = j + 1
            end
            local vals = call('HMGET', cfgkey, unpack(names, 1, k))
            m = vals[1]
            if m then
                for q = 2, k do
                    local v = vals[q]
                    if v then
                        gen_put(cfg.fc, names[q], parse_rules(v))
                    else
                        gen_put(cfg.fa, names[q], false)
                    end
                end
            end
        end
        if not m then
            return nil, redis.error_reply('RLC_NOCONFIG config ' .. ver .. ' is missing')
        end
        cfg.m = m
        gen_put(cfgs, cfgkey, cfg)
    end
    return cfg, cfgkey
end

local two, got2, TOP = {}, {}, {'s'}

-- The subjects a request path reaches, level by level (SPEC.md 2.3): the
-- listed subject "<kind>:<name>" if the config has it, else the template
-- "<kind>*", else none (and the walk goes on under the listed name, which
-- finds nothing unless a rule-less listed subject has listed ones below).
-- Returns lists (rule lists per level reached) and sufs (per level: the
-- request's names at template levels so far, "/<name>", ':' encoded as
-- %3A, which name the counters of a template's rules), or nil, error.
local WL, WS, wn = {}, {}, 0
local function walk(cfg, cfgkey, path)
    local top = fields(cfg, cfgkey, TOP, two)[1]
    -- The same two tables serve every call: plan_for copies what it keeps.
    local lists, sufs = WL, WS
    for k = 2, wn do lists[k], sufs[k] = nil, nil end
    lists[1], sufs[1], wn = top or false, '', 1
    if path == '' then return lists, sufs, 's' end
    if #path > 1024 then return nil, 'path longer than 1024 bytes' end
    local cur, suf, depth = 's', '', 1
    local i, n = 1, #path
    -- exact: cur is "s/" and the path up to this segment (no level so far
    -- reached a template), so a listed name is cut from the path whole:
    -- at the last segment, the path itself (each string a call makes is
    -- one more for the collector, and a new value makes new ones).
    local exact = true
    while true do
        local j = find(path, '/', i, true)
        local e = (j or n + 1) - 1
        -- The segment path[i..e] is "<kind>:<name>": kind up to the first
        -- ':', a name of at least one byte after it.
        local c = find(path, ':', i, true)
        if c and c > e then c = nil end
        local kind = c and sub(path, i, c - 1)
        if (kind ~= 'group' and kind ~= 'key') or c == e then
            return nil, 'path segment must be group:NAME or key:NAME'
        end
        depth = depth + 1
        if depth > 8 then return nil, 'path deeper than 8 subjects' end
        wn = depth
        local lf
        if not exact then
            lf = cur .. '/' .. sub(path, i, e)
        elseif j then
            lf = 's/' .. sub(path, 1, e)
        else
            lf = 's/' .. path
        end
        local tf = cur .. '/' .. kind .. '*'
        local l, t
        if cfg.full then
            -- The whole config is here: two table lookups, nothing to fetch.
            local f = cfg.f
            l, t = f[lf], f[tf]
        else
            two[1], two[2] = lf, tf
            local got = fields(cfg, cfgkey, two, got2, not j)
            l, t = got[1], got[2]
        end
        if l then
            cur = lf
            lists[depth], sufs[depth] = l, suf
        elseif t then
            cur, exact = tf, false
            local name = sub(path, c + 1, e)
            suf = suf .. '/' .. gsub(name, ':', '%%3A')
            lists[depth], sufs[depth] = t, suf
        else
            cur = lf
            lists[depth], sufs[depth] = false, suf
        end
        if not j then break end
        i = j + 1
        if i > n then return nil, 'path has an empty segment' end
    end
    return lists, sufs, cur
end

-- The decision time: the client's now_ms with time_source = client, else
-- Redis TIME.  Returns now, nil, skew or nil, error reply.
local function clock(meta, arg)
    local format, tsrc, skew = match(meta, '^(%d+) (%a) (%d+)$')
    if format ~= '1' then return nil, redis.error_reply('RLC_FORMAT unknown config format') end
    if tsrc == 'c' then
        local now = int_arg(arg)
        if not now then
            return nil, bad('time_source = client needs now_ms, an integer >= 0')
        end
        return now, nil, tonumber(skew)
    end
    return server_ms(), nil, tonumber(skew)
end


-- A plan is {ver, client, skew, rules, mkeys, meta[, routes, sig][, junk]}:
-- mkeys[1] is the active key and mkeys[i + 1] rule i's counter key, so
-- that one MGET of mkeys checks the version and reads every state (a
-- concurrency rule's key holds a sorted set, for which MGET answers nil),
-- and vals[i + 1] is rule i's state: no other table per plan.

-- The shape of a request: the rules of lists that apply to the routed
-- rules signature sig, and where each one's counter key comes from
-- (tails, and lvl: the level whose suffix ends it).
local function shape_build(lists, sig)
    local rules, tails, lvl, b = {}, {}, {}, 0
    for i = 1, #lists do
        local list = lists[i]
        if list then
            for j = 1, #list do
                local r = list[j]
                local ok = true
                if r.method then
                    b = b + 1
                    ok = RT.has(sig, b)
                end
                if ok then
                    local n = #rules + 1
                    rules[n], tails[n], lvl[n] = r, ':c:' .. r.id, i
                end
            end
        end
    end
    return {rules = rules, tails = tails, lvl = lvl, n = #rules}
end

-- The shape of a request that reaches a template, kept per config under
-- the subjects reached (the walk's last subject names them all, and so
-- the rule lists) with their route matcher, and under that by route
-- signature: the same for every value.  Returns the shape, the matcher
-- (nil: no routed rule) and the signature.
local function shape_of(cfg, lists, cur, method, route)
    local reach = cfg.reach
    if not reach then
        -- Keyed by subject: what the config lists bounds it.
        reach = gen_new(cfg.nf > 4096 and cfg.nf or 4096)
        cfg.reach = reach
    end
    local R = gen_get(reach, cur)
    if not R then
        local M
        for i = 1, #lists do
            if lists[i] and lists[i].routed then
                RT = RT or routes_lib()
                M = RT.matcher(lists)
                break
            end
        end
        R = {routes = M, n = 0}
        gen_put(reach, cur, R)
    end
    local M = R.routes
    local sig = true
    if M then sig = RT.sig(M, method, route) end
    local sk = R[sig]
    if not sk then
        -- Distinct signatures are bounded by the patterns; still, bound them.
        if R.n >= 256 then
            R = {routes = M, n = 0}
            gen_put(reach, cur, R)
        end
        sk = shape_build(lists, sig)
        R[sig] = sk
        R.n = R.n + 1
    end
    return sk, M, sig
end

-- A request that reaches a template: the shape is the same for every
-- value, only the keys are made per call.
local VM, VP, vm_n = {}, {per_value = true}, 1
local function value_plan(cfg, sk, sufs, active, prefix, ver, tsrc, skew)
    -- The plan is never kept: the same tables serve every call.
    local tails, lvl, n = sk.tails, sk.lvl, sk.n
    local mkeys = VM
    mkeys[1] = active
    for i = 1, n do mkeys[i + 1] = prefix .. tails[i] .. sufs[lvl[i]] end
    for k = n + 2, vm_n do mkeys[k] = nil end
    vm_n = n + 1
    local p = VP
    p.ver, p.client, p.skew, p.rules = ver or false, tsrc == 'c', skew, sk.rules
    p.mkeys, p.meta = mkeys, cfg.m
    return p
end

local function plan_for(active, prefix, ver, path, method, route)
    local cfg, cfgkey = config_of(active, prefix, ver, path)
    if not cfg then return nil, cfgkey end
    local lists, sufs, cur = walk(cfg, cfgkey, path)
    if not lists then return nil, bad(sufs) end
    -- The meta field, parsed once per config (tonumber is a strtod).
    local tsrc, skew = cfg.tsrc, cfg.skew
    if not tsrc then
        local format
        format, tsrc, skew = match(cfg.m, '^(%d+) (%a) (%d+)$')
        if format ~= '1' then return nil, redis.error_reply('RLC_FORMAT unknown config format') end
        skew = tonumber(skew)
        cfg.tsrc, cfg.skew = tsrc, skew
    end
    -- routes: the matcher when some rule reached has a route (the plan
    -- then depends on METHOD and ROUTE through sig), else nil: one plan
    -- serves every URL of the path.
    if sufs[#sufs] ~= '' or not ver then
        local sk, M, sig = shape_of(cfg, lists, cur, method, route)
        if sk.n > 256 then return nil, bad('more than 256 rules apply') end
        if sufs[#sufs] ~= '' then
            return value_plan(cfg, sk, sufs, active, prefix, ver, tsrc, skew)
        end
        -- A path whose last subject has no field is named by the client
        -- (or is a listed subject without rules): its plan is bounded as
        -- what clients choose are, not by the config's fields.
        local junk = path ~= '' and not lists[#lists]
        local tails = sk.tails
        local mkeys = {active}
        for i = 1, sk.n do mkeys[i + 1] = prefix .. tails[i] end
        local p = {ver = false, client = tsrc == 'c', skew = skew, rules = sk.rules,
                   mkeys = mkeys, meta = cfg.m, routes = M, sig = sig, tails = tails}
        if junk then p.junk = true end
        return p
    end
    -- A listed tenant's path: its plan is kept (plans), not its shape, so
    -- the plan is made here directly.
    local M, sig = nil, true
    for i = 1, #lists do
        if lists[i] and lists[i].routed then
            RT = RT or routes_lib()
            M = RT.matcher(lists)
            sig = RT.sig(M, method, route)
            break
        end
    end
    local sk = shape_build(lists, sig)
    if sk.n > 256 then return nil, bad('more than 256 rules apply') end
    local tails, mkeys = sk.tails, {active}
    for i = 1, sk.n do mkeys[i + 1] = prefix .. tails[i] end
    local p = {ver = ver, client = tsrc == 'c', skew = skew, rules = sk.rules,
               mkeys = mkeys, meta = cfg.m}
    if M then p.routes, p.sig = M, sig end
    if path ~= '' and not lists[#lists] then p.junk = true end
    return p
end

-- The plan of an unlisted tenant from t, a plan `tenant *` made for
-- another: the same rules, with this tenant's keys (made per call, in the
-- tables value_plan uses), so that unlisted tenants share one plan per
-- path and the library keeps nothing per unlisted tenant.
local function tpl_bind(t, active)
    local prefix = sub(active, 1, -8)
    local tails = t.tails
    local n = #tails
    local mkeys = VM
    mkeys[1] = active
    for i = 1, n do mkeys[i + 1] = prefix .. tails[i] end
    for k = n + 2, vm_n do mkeys[k] = nil end
    vm_n = n + 1
    local p = VP
    p.ver, p.client, p.skew, p.rules = false, t.client, t.skew, t.rules
    p.mkeys, p.meta = mkeys, t.meta
    return p
end


local function build4()

-- Per-rule results of the current call (reused: no tables per call).
local A, R, S, Y, ST, TT, U = {}, {}, {}, {}, {}, {}, {}
local OUT, out_n = {}, 7
local COSTS, ncosts = {}, 0
--[==[@evalsha
-- The script's plan of the request (see the top of the file): the routed
-- rules the request matches, by the matcher FUNCTION LOAD uses, over the
-- one list the twin makes, and their counter keys; then their states (the
-- version was read by this call: the MGET reads it again only to keep the
-- states at vals[i + 1], where the body of decide reads them).
if routed then
    RT = routes_lib()
    local all, b, sig = rules, 0, RT.sig(RT.matcher({rules}), ARGV[3], ARGV[4])
    rules, n = {}, 0
    for i = 1, #all do
        local r = all[i]
        local ok = true
        if r.method then
            b = b + 1
            ok = RT.has(sig, b)
        end
        if ok then
            n = n + 1
            rules[n] = r
        end
    end
    mk = {active}
    for i = 1, n do mk[i + 1] = prefix .. ':c:' .. rules[i].id end
end
local vals
if n == 3 then
    vals = call('MGET', active, mk[2], mk[3], mk[4])
elseif n == 1 then
    vals = call('MGET', active, mk[2])
else
    vals = call('MGET', unpack(mk))
end
-- decide's arguments, as FCALL passes them, and its cost: most requests
-- cost 1; a bad one is the library's error.
local cost, args = 1, nil
if RARE then
    args = {unpack(ARGV, 2)}
    cost = int_arg(args[4])
    if not cost or cost < 1 or cost > 2147483648 then return full() end
end
-- The per-call results, sized for three rules (a table grown from empty
-- is reallocated at each power of two).  For a request that is not RARE,
-- Y, A and U are TT, two tables less: a token bucket or fixed window writes TT[i]
-- when it admits and Y[i] when it rejects, never both; Y is read only at
-- a rejecting rule and TT at an admitting one (ST[i] set); A and U are
-- written only by the rules that make a request RARE (concurrency and the
-- algorithms decide calls), and A[i] is read only with the rule's kind
-- checked to be a concurrency rule's.
local R, S, ST, TT = {nil, nil, nil, nil}, {nil, nil, nil, nil}, {nil, nil, nil, nil},
    {nil, nil, nil, nil}
local Y, A, U = TT, TT, TT
if RARE then Y, A, U = {}, {}, {} end
local OUT, out_n = {nil, nil, nil, nil, nil, nil, nil, nil}, 7
local lease_id = ARGV[7]
--]==]

local function decide(keys, args)
    if not call then init() end
    local active = keys[1]
    -- The plan cached for this path: one lookup (gen2_get's, inline), or
    -- with routed rules a walk of ROUTE's segments to its signature.  Only
    -- a well-formed active key is ever cached: the check of its form is
    -- for the calls that miss.
    local e = active and plans.new[active]
    e = e and e[args[1]]
    if not e and (not active or sub(active, -7) ~= ':active') then
        return bad('KEYS[1] must be the tenant\'s active key')
    end
    -- Every argument is positional and always sent (empty when unused):
    -- a call with fewer or more was built for another signature.
    if #args ~= 6 then
        return bad('decide takes 6 arguments (path, method, route, cost, now_ms, lease id), '
                   .. 'not ' .. #args)
    end
    -- The costs seen are few (mostly "1"): their values are kept, so that
    -- most calls parse no number (at most 64, then the rest are parsed).
    local cost = COSTS[args[4]]
    if not cost then
        cost = int_arg(args[4])
        if not cost or cost < 1 or cost > 2147483648 then
            return bad('cost must be an integer from 1 to 2^31')
        end
        if ncosts < 64 then
            COSTS[args[4]], ncosts = cost, ncosts + 1
        end
    end
    local p, unlisted, ver = e, false, nil
    if not e then
        if #active > 4096 then return bad('KEYS[1] longer than 4096 bytes') end
        -- The older generation, then for an unlisted tenant (none is kept
        -- per tenant) the plan `tenant *` keeps per path.
        local path = args[1]
        -- jplans is read in its newer generation only (an entry of the
        -- older one is made again): a path that reaches a template is in
        -- neither cache, and pays two lookups here, not two calls.
        e = gen2_get(plans, active, path)
        if not e then
            e = jplans.new[active]
            e = e and e[path]
        end
        if not e then
            ver = gen_get(seen, active)
            if ver == nil and TEMPLATE and sub(active, 1, #TEMPLATE.tagpre) == TEMPLATE.tagpre then
                e = gen2_get(plans, TEMPLATE, path)
                if not e then
                    e = jplans.new[TEMPLATE]
                    e = e and e[path]
                end
                unlisted = true
            end
        end
        p = e
    end
    if e and e.routes then p = e[RT.sig(e.routes, args[2], args[3])] end
    if unlisted and p then p = tpl_bind(p, active) end
    local vals
    if p then
        -- One or three rules (a key of a tenant, or of a group of a
        -- tenant) without unpack's call.
        local mk = p.mkeys
        local nk = #mk
        if nk == 2 then
            vals = call('MGET', mk[1], mk[2])
        elseif nk == 4 then
            vals = call('MGET', mk[1], mk[2], mk[3], mk[4])
        else
            vals = call('MGET', unpack(mk))
        end
        if vals[1] ~= p.ver then p = nil end
    end
    if not p then
        -- The version last seen for this tenant, else read it: then one
        -- MGET checks it and reads the counters; a version that changed
        -- meanwhile resolves again.  A tenant not seen, in the namespace
        -- of `tenant *`, is first taken for an unlisted one (no active
        -- key): the MGET tells, without a GET per unlisted tenant.
        local path, method, route = args[1], args[2], args[3]
        local prefix = sub(active, 1, -8)
        local fresh = false
        if ver == nil and not unlisted then ver = gen_get(seen, active) end
        if ver == nil then
            if unlisted then
                ver = false
            else
                ver, fresh = call('GET', active) or false, true
            end
        end
        for _ = 1, 3 do
            local perr
            p, perr = plan_for(active, prefix, ver or nil, path, method, route)
            if not p then
                if fresh then return perr end
                ver, fresh = call('GET', active) or false, true
            else
                vals = call('MGET', unpack(p.mkeys))
                if vals[1] == p.ver then break end
                ver, fresh, p = vals[1], true, nil
            end
        end
        if not p then return redis.error_reply('RLC_NOCONFIG config changed during the call') end
        if p.ver and KEEPS and gen_get(seen, active) ~= p.ver then gen_put(seen, active, p.ver) end
        if not p.per_value and KEEPS then
            -- The plan of `tenant *` serves every unlisted tenant.
            local owner = p.ver and active or TEMPLATE
            -- A path junk under one version and not under another is
            -- kept in one cache only: the other one's entry would be
            -- found first, stale, on every call.
            local cache, other = plans, jplans
            if p.junk then cache, other = jplans, plans end
            local t = other.new[owner]
            if t then t[path] = nil end
            t = other.old[owner]
            if t then t[path] = nil end
            if p.routes then
                -- A node holds plans of one config version only: a
                -- signature means nothing under another.
                local node = gen2_get(cache, owner, path)
                if not node or not node.routes or node.ver ~= p.ver or node.n >= 256 then
                    node = {routes = p.routes, ver = p.ver, n = 0}
                    gen2_put(cache, owner, path, node)
                end
                node[p.sig] = p
                node.n = node.n + 1
            else
                gen2_put(cache, owner, path, p)
            end
        end
    end
    local skew, client, rules, mk = p.skew, p.client, p.rules, p.mkeys
    local lease_id = args[6]
--@evalsha
    -- A bucket keeps the expiry its state records while that is at least
    -- keep + reset (bucket_ttl; at_now + 2 x skew + 1, nil when at_now is).
    local now, keep
    if client then
        now = int_arg(args[5])
        if not now then
            return bad('time_source = client needs now_ms, an integer >= 0')
        end
        at_now = nil
    else
        -- server_ms, written out (a call costs more than its body).  The
        -- seconds' string is read by Lua's arithmetic, which converts it
        -- as tonumber does (strtod) without tonumber's call: under EVALSHA
        -- nothing is kept, so this runs on every call.
        local t = call('TIME')
        local s, u = t[1], t[2]
        if s ~= sec_s then sec_s, sec_ms = s, s * 1000 end
        local nu = #u
        if nu == 6 then
            local a, b, c = byte(u, 1, 3)
            now = sec_ms + a * 100 + b * 10 + c - 5328
        elseif nu == 5 then
            local a, b = byte(u, 1, 2)
            now = sec_ms + a * 10 + b - 528
        elseif nu == 4 then
            now = sec_ms + byte(u, 1) - 48
        else
            now = sec_ms
        end
        if has_pxat then
            at_now, keep = now, now + 2 * skew + 1
        else
            at_now = nil
        end
    end
    if #lease_id > 128 then return bad('lease id longer than 128 bytes') end

    local n = #rules
    -- The answer is one flat array, the ids of shadow rules that would
    -- have rejected after the seven fixed fields: Redis converts a nested
    -- table (even an empty one) at about the cost of a redis.call.  The
    -- same table serves every call; only its tail is cleared.
    local out, no = OUT, 7
    -- The deciding rule is found while evaluating: the non-shadow rule
    -- with the least remaining (when admitted; a charged concurrency rule
    -- changes its remaining, so then it is found again after the writes)
    -- and the non-shadow rejecter with the longest retry, -1 (never)
    -- longest (when rejected); ties go to the earlier rule.
    -- (All four start nil: one instruction.)
    local blocked, conc, least, longest
    -- The per-call tables as locals: an upvalue costs a VM instruction more
    -- at every use, and the loops below use them a dozen times per rule.
    local A, R, S, Y, ST, TT = A, R, S, Y, ST, TT
    -- One rule, outside a dry run: if it is not a shadow rule, its result
    -- is the decision, which the token bucket and the fixed window below
    -- write and answer where they compute it (what the code after the
    -- loop does for one rule, without its bookkeeping: most plans are one
    -- rule, and the bookkeeping cost about what a fifth of the rest did).
    local lone = n == 1 and not DRY
    for i = 1, n do
        local r = rules[i]
        local kind = r.kind
        local admit, rem, retry
        if kind == 'T' then
            -- token_bucket, written out: calling the algorithm and storing
            -- its six results costs about as much as its arithmetic.
            -- token_bucket says why each step is algo.c's.
            local W, C, B = r.n2, r.n1, r.n3
            local cap = B * W
            local st = vals[i + 1]
            local level, last, oexp
            if not st then
                level, last, oexp = cap, now, 0
            else
                if #st == 24 then
                    level, last, oexp = sunpack('ddd', st)
                else
                    level, last = sunpack('dd', st)
                    oexp = 0
                end
                if level > cap then level = cap end
            end
            local t = now
            if last > t then t = last end
            if level < cap and t > last then
                level = level + (t - last) * C
                if level > cap then level = cap end
            end
            local ck = cost * r.n4
            local units = ck * W
            if ck <= B and level >= units then
                local left = level - units
                -- reset = t - now + cdiv(cap - left, C); remaining =
                -- idiv(left, W).
                local a = cap - left
                local q = a / C
                q = q - q % 1
                local m = a - q * C
                if m < 0 then
                    q, m = q - 1, m + C
                elseif m >= C then
                    q, m = q + 1, m - C
                end
                if m > 0 then q = q + 1 end
                local reset = t - now + q
                q = left / W
                q = q - q % 1
                m = left - q * W
                if m < 0 then
                    q = q - 1
                elseif m >= W then
                    q = q + 1
                end
                -- Its expiry kept (bucket_ttl's common answer), only the
                -- state's first two numbers are written: the third, the
                -- expiry recorded, stays as it is.
                local st, tt
                if keep and oexp >= keep + reset then
                    st, tt = spack('dd', left, t), false
                else
                    -- bucket_ttl's other answers.
                    local need, exp = reset + 2 * skew + 1, 0
                    if keep then
                        local slack = reset / 16
                        slack = slack - slack % 1
                        if slack < 1000 then slack = 1000 end
                        need = need + slack
                        exp = at_now + need
                    end
                    st, tt = spack('ddd', left, t, exp), need
                end
                if lone and not r.shadow then
                    -- The write and the answer of the code after the loop.
                    if tt == false then
                        call('SETRANGE', mk[2], '0', st)
                    elseif at_now then
                        call('SET', mk[2], st, 'PXAT', at_now + tt)
                    else
                        set_px(mk[2], st, tt)
                    end
                    if out_n ~= 7 then
                        for k = 8, out_n do out[k] = nil end
                        out_n = 7
                    end
                    out[1], out[2], out[3], out[4], out[5], out[6], out[7] =
                        1, r.id, q, reset, 0, now, ''
                    return out
                end
                admit, rem = true, q
                R[i], S[i], ST[i], TT[i] = q, reset, st, tt
            else
                admit, rem = false, idiv(level, W)
                retry = -1
                if ck <= B then retry = t - now + cdiv(units - level, C) end
                local reset = t - now + cdiv(cap - level, C)
                if lone and not r.shadow then
                    if out_n ~= 7 then
                        for k = 8, out_n do out[k] = nil end
                        out_n = 7
                    end
                    out[1], out[2], out[3], out[4], out[5], out[6], out[7] =
                        0, r.id, rem, reset, retry, now, ''
                    return out
                end
                R[i], S[i], Y[i], ST[i] = rem, reset, retry, false
            end
        elseif kind == 'F' then
            -- fixed_window, written out as the bucket is.
            local W, C = r.n2, r.n1
            -- start = idiv(now, W) * W
            local q = now / W
            q = q - q % 1
            local m = now - q * W
            if m < 0 then
                q = q - 1
            elseif m >= W then
                q = q + 1
            end
            local start, cnt, kept = q * W, 0, false
            local st = vals[i + 1]
            if st then
                local a, b = sunpack('dd', st)
                if a >= start then start, cnt, kept = a, b, true end
            end
            local end_in = start + W - now
            local n = cost * r.n4
            if n <= C - cnt then
                admit, rem = true, C - cnt - n
                local st = spack('dd', start, cnt + n)
                local tt = not (kept and at_now) and end_in + 2 * skew + 1
                if lone and not r.shadow then
                    -- The write and the answer of the code after the loop.
                    if tt == false then
                        call('SETRANGE', mk[2], '0', st)
                    elseif at_now then
                        call('SET', mk[2], st, 'PXAT', at_now + tt)
                    else
                        set_px(mk[2], st, tt)
                    end
                    if out_n ~= 7 then
                        for k = 8, out_n do out[k] = nil end
                        out_n = 7
                    end
                    out[1], out[2], out[3], out[4], out[5], out[6], out[7] =
                        1, r.id, rem, end_in, 0, now, ''
                    return out
                end
                R[i], S[i], ST[i], TT[i] = rem, end_in, st, tt
            else
                admit, rem, retry = false, C - cnt, end_in
                if n > C then retry = -1 end
                local reset = cnt > 0 and end_in or 0
                if lone and not r.shadow then
                    if out_n ~= 7 then
                        for k = 8, out_n do out[k] = nil end
                        out_n = 7
                    end
                    out[1], out[2], out[3], out[4], out[5], out[6], out[7] =
                        0, r.id, rem, reset, retry, now, ''
                    return out
                end
                R[i], S[i], Y[i], ST[i] = rem, reset, retry, false
            end
        -- A is read for concurrency rules only: the kinds above leave it.
        elseif kind == 'C' then
            local key = mk[i + 1]
            -- Leases that expired are dropped; peek writes nothing, so it
            -- counts only the live ones (expiry after now) instead.
            local live = DRY and '(' .. fmt('%d', now) or nil
            local cnt
            if DRY then
                cnt = call('ZCOUNT', key, live, '+inf')
            else
                call('ZREMRANGEBYSCORE', key, '-inf', now)
                cnt = call('ZCARD', key)
            end
            -- Ranks go as strings: Redis would format numbers with %.17g.
            -- One lease is both the earliest and the latest.
            local latest, earliest = 0, 0
            if cnt > 0 then
                latest = tonumber(call('ZRANGE', key, '-1', '-1', 'WITHSCORES')[2])
                earliest = latest
                if cnt > 1 and DRY then
                    earliest = tonumber(call('ZRANGEBYSCORE', key, live, '+inf', 'WITHSCORES',
                                             'LIMIT', '0', '1')[2])
                elseif cnt > 1 then
                    earliest = tonumber(call('ZRANGE', key, '0', '0', 'WITHSCORES')[2])
                end
            end
            local max = r.n1
            U[i] = cnt
            admit = cnt < max
            rem = max - cnt
            if rem < 0 then rem = 0 end
            local reset = 0
            retry = 0
            if cnt > 0 then reset = latest - now end
            if admit then
                local mine = now + r.n2
                if cnt > 0 and latest > mine then reset = latest - now else reset = mine - now end
            else
                retry = earliest - now
            end
            A[i], R[i], S[i], Y[i] = admit, rem, reset, retry
            conc = true
            ST[i] = false
        else
            local reset, st, tt
            admit, rem, reset, retry, st, tt =
                (rate[kind] or algs()[kind])(r, vals[i + 1] or nil, cost, now, skew, mk[i + 1])
            A[i], R[i], S[i], Y[i], ST[i], TT[i] = admit, rem, reset, retry, st or false, tt
        end
        if r.shadow then
            if not admit then
                no = no + 1
                out[no] = r.id
            end
        elseif not admit then
            blocked = true
            if not longest or (Y[longest] ~= -1 and (retry == -1 or retry > Y[longest])) then
                longest = i
            end
        elseif not least or rem < R[least] then
            least = i
        end
    end
    if no ~= out_n then
        for k = no + 1, out_n do out[k] = nil end
        out_n = no
    end

    if blocked then
        out[1], out[2], out[3], out[4], out[5], out[6], out[7] =
            0, rules[longest].id, R[longest], S[longest], Y[longest], now, ''
        return out
    end
    local lease = ''
    if DRY then
        -- What the writes, not made, would leave: a concurrency rule one
        -- lease more (the others' states were computed as charged already).
        for i = 1, n do
            if A[i] and rules[i].kind == 'C' then
                local rem = rules[i].n1 - U[i] - 1
                if rem < 0 then rem = 0 end
                R[i] = rem
            end
        end
    else
        for i = 1, n do
            local st = ST[i]
            if st then
                -- An admitted rate rule.  tt false keeps the expiry, and
                -- then the state read had the new one's format (an
                -- algorithm keeps an expiry only over a state of its own),
                -- so it is overwritten in place; a new expiry is set_px's,
                -- written out for server time.
                local tt = TT[i]
                if tt == false then
                    call('SETRANGE', mk[i + 1], '0', st)
                elseif rules[i].kind == 'L' then
                    log_commit(mk[i + 1], st, tt)
                elseif at_now then
                    call('SET', mk[i + 1], st, 'PXAT', at_now + tt)
                else
                    set_px(mk[i + 1], st, tt)
                end
            elseif A[i] and rules[i].kind == 'C' then
                local r = rules[i]
                if lease == '' then
                    if lease_id ~= '' then
                        lease = lease_id
                    else
                        local sk = sub(active, 1, -8) .. ':seq'
                        local seq = call('INCR', sk)
                        pexpire(sk, ttl(86400000, skew))
                        lease = fmt('%d-%d', now, seq)
                    end
                end
                local added = call('ZADD', mk[i + 1], now + r.n2, lease)
                pexpire(mk[i + 1], ttl(r.n2, skew))
                local rem = r.n1 - U[i] - added
                if rem < 0 then rem = 0 end
                R[i] = rem
            end
        end
    end
    if conc then
        least = nil
        for i = 1, n do
            if not rules[i].shadow and (not least or R[i] < R[least]) then least = i end
        end
    end

    if least then
        out[1], out[2], out[3], out[4], out[5] = 1, rules[least].id, R[least], S[least], 0
    else
        out[1], out[2], out[3], out[4], out[5] = 1, '', -1, 0, 0
    end
    out[6], out[7] = now, lease
    return out
--@end
end

-- release and activate are made on first use: an EVALSHA that decides
-- does not pay for them.
local function extra()
local function release(keys, args)
    if not call then init() end
    local active = keys[1]
    if not active or sub(active, -7) ~= ':active' then
        return bad('KEYS[1] must be the tenant\'s active key')
    end
    local prefix = sub(active, 1, -8)
    if #args ~= 5 then
        return bad('release takes 5 arguments (path, method, route, lease id, now_ms), not '
                   .. #args)
    end
    local path, method, route, lease_id = args[1], args[2], args[3], args[4]
    if lease_id == '' then return bad('release needs the lease id') end
    if #active > 4096 then return bad('KEYS[1] longer than 4096 bytes') end
    local p, perr = plan_for(active, prefix, call('GET', active) or nil, path, method, route)
    if not p then return perr end
    local now, terr = clock(p.meta, args[5])
    if not now then return terr end
    local n = 0
    for i = 1, #p.rules do
        if p.rules[i].kind == 'C' then
            -- Expired leases first, as decide does: only a live lease
            -- counts as released.
            local key = p.mkeys[i + 1]
            call('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', now))
            n = n + call('ZREM', key, lease_id)
        end
    end
    return {n, now}
end

-- All rules of a config, by id, and its meta field.
local function all_rules(cfgkey)
    local kv = call('HGETALL', cfgkey)
    local meta, byid = nil, {}
    for i = 1, #kv, 2 do
        if kv[i] == 'm' then
            meta = kv[i + 1]
        elseif byte(kv[i]) == 115 then
            local list = parse_rules(kv[i + 1])
            for j = 1, #list do byid[list[j].id] = list[j] end
        end
    end
    return meta, byid
end

-- activate: KEYS[1] = active key; ARGV = version, now_ms (client time only)
-- Points the tenant at config <version>.  Counters that survive with new
-- numbers (same id, other count/window/burst/cost, or another skew) get the
-- expiry their state needs under the new numbers, in the same atomic step,
-- so that an expiry still never changes a decision (SPEC.md 6.5).
-- Returns the number of counters re-timed.
local function activate(keys, args)
    if not call then init() end
    local active = keys[1]
    if not active or sub(active, -7) ~= ':active' then
        return bad('KEYS[1] must be the tenant\'s active key')
    end
    local prefix = sub(active, 1, -8)
    local ver = args[1] or ''
    if ver == '' then return bad('activate needs the config version') end
    local newmeta, newr = all_rules(prefix .. ':cfg:' .. ver)
    if not newmeta then return redis.error_reply('RLC_NOCONFIG config ' .. ver .. ' is missing') end
    local now, terr, skew = clock(newmeta, args[2])
    if not now then return terr end
    at_now = (has_pxat and not match(newmeta, '^%d+ c ')) and now or nil
    local old = call('GET', active)
    local n = 0
    if old and old ~= ver then
        local oldmeta, oldr = all_rules(prefix .. ':cfg:' .. old)
        for id, r in pairs(newr) do
            local o = oldr[id]
            if o and r.kind ~= 'C' and (oldmeta ~= newmeta or o.n1 ~= r.n1 or o.n2 ~= r.n2
                or o.n3 ~= r.n3 or o.n4 ~= r.n4) then
                local key = prefix .. ':c:' .. id
                local st = call('GET', key)
                if st then
                    -- A charge no rule can hold: the algorithm only reports.
                    local _, _, reset = (rate[r.kind] or algs()[r.kind])(r, st, 9007199254740992,
                                                                        now, skew, key)
                    local tt = ttl(reset, skew)
                    -- A bucket's state names the expiry its writes keep
                    -- (bucket_ttl): never set one earlier than that.
                    if at_now and #st == 24 and (r.kind == 'T' or r.kind == 'G') then
                        local _, _, oexp = sunpack('ddd', st)
                        if oexp > at_now + tt then tt = oexp - at_now end
                    end
                    pexpire(key, tt)
                    if r.kind == 'L' then pexpire(key .. ':log', ttl(reset, skew)) end
                    n = n + 1
                end
            end
        end
    end
    call('SET', active, ver)
    return n
end

return release, activate
end

-- decide without writing anything (see the header).
local function peek(keys, args)
    DRY = true
    local ok, res = pcall(decide, keys, args)
    DRY = false
    if not ok then error(res, 0) end
    return res
end

return decide, peek, extra
end
return build4()
end
return build3()
end
return build2()
end
local decide, peek, extra = build()

if redis.register_function then
    local release, activate = extra()
    redis.register_function('rlc_decide', decide)
    redis.register_function{function_name = 'rlc_peek', callback = peek, flags = {'no-writes'}}
    redis.register_function('rlc_release', release)
    redis.register_function('rlc_activate', activate)
else
    -- Redis 3.2-4: effects replication, so TIME may precede writes.
    if redis.replicate_commands then redis.replicate_commands() end
    -- EVAL / EVALSHA: ARGV[1] names the operation.
    local op = ARGV[1]
    local rest = {}
    for i = 2, #ARGV do rest[i - 1] = ARGV[i] end
    if op == 'decide' then return decide(KEYS, rest) end
    if op == 'peek' then return peek(KEYS, rest) end
    local release, activate = extra()
    if op == 'release' then return release(KEYS, rest) end
    if op == 'activate' then return activate(KEYS, rest) end
    return redis.error_reply('RLC_BADARG ARGV[1] must be decide, release, activate or peek')
end
