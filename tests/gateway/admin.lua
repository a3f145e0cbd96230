-- admin.lua - a small HTTP admin API for rate-limit configs, run by nginx's
-- Lua module in tests (tests/gateway/nginx.conf.in): the real gateway the
-- http target deploys to (SPEC.md 7.9).  Entries live in a shared dict;
-- every write gets a fresh ETag, and If-Match / If-None-Match are honoured,
-- which nginx's own WebDAV module does not do.  One worker process, and no
-- yield between the check and the write, so a conditional write is atomic.
--
--   GET    /admin/health            200 "ok"
--   GET    /admin/tenants           200 JSON array of entry names (as in the URL)
--   GET    /admin/tenants/NAME      200 body + ETag, or 404
--   PUT    /admin/tenants/NAME      If-Match ETAG | If-None-Match *; 201/204 + ETag, 412
--   DELETE /admin/tenants/NAME      If-Match ETAG; 204, 404, 412
-- Every request needs "Authorization: Bearer <token>" (401 otherwise).
local dict = ngx.shared.gw
local token = ngx.var.gw_token
-- The raw path: tenant names arrive percent-encoded and must stay so.
local uri = ngx.var.request_uri:gsub("%?.*$", "")
local method = ngx.req.get_method()

if ngx.var.http_authorization ~= "Bearer " .. token then
    ngx.status = 401
    ngx.say('{"error":"bad or missing bearer token"}')
    return
end

if uri == "/admin/health" then
    ngx.say("ok")
    return
end

if uri == "/admin/tenants" and method == "GET" then
    local names = {}
    for _, k in ipairs(dict:get_keys(0)) do
        if k:sub(1, 2) == "t:" then
            names[#names + 1] = '"' .. k:sub(3) .. '"'
        end
    end
    table.sort(names)
    ngx.say("[" .. table.concat(names, ",") .. "]")
    return
end

local name = uri:match("^/admin/tenants/([A-Za-z0-9%%._~-]+)$")
if not name then
    ngx.status = 404
    ngx.say('{"error":"no such resource"}')
    return
end
local cur = dict:get("t:" .. name)
local etag = dict:get("e:" .. name)

local function precondition()
    local im = ngx.var.http_if_match
    local inm = ngx.var.http_if_none_match
    if im and (not cur or im ~= etag) then return false end
    if inm == "*" and cur then return false end
    return true
end

if method == "GET" then
    if not cur then
        ngx.status = 404
        return
    end
    ngx.header["ETag"] = etag
    ngx.print(cur)
elseif method == "PUT" then
    ngx.req.read_body()
    local body = ngx.req.get_body_data() or ""
    if not precondition() then
        ngx.status = 412
        ngx.say('{"error":"precondition failed"}')
        return
    end
    local seq = dict:incr("seq", 1, 0)
    local tag = '"' .. seq .. '"'
    dict:set("t:" .. name, body)
    dict:set("e:" .. name, tag)
    ngx.header["ETag"] = tag
    -- 204, not 200: nginx's not-modified filter would compare a 200's new
    -- ETag with the request's If-Match and answer 412 after the write.
    ngx.status = cur and 204 or 201
elseif method == "DELETE" then
    if not cur then
        ngx.status = 404
        return
    end
    if not precondition() then
        ngx.status = 412
        ngx.say('{"error":"precondition failed"}')
        return
    end
    dict:delete("t:" .. name)
    dict:delete("e:" .. name)
    ngx.status = 204
else
    ngx.status = 405
end
