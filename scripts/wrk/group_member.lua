-- PATCH /Groups/{GROUP}: add one member, then remove it, in turn; each request is a real
-- change (the member is taken from a pool of users outside the group).
-- args: GROUP_ID POOL_FILE (ids of users that are not members)
dofile((os.getenv("WRK_LUA_DIR") or ".") .. "/common.lua")
local group, pool, H, i
function init(args)
  group = args[1]
  pool = load_ids(args[2])
  H = hdrs({["Content-Type"] = "application/scim+json"})
  i = 0
end
function request()
  i = i + 1
  local member = pool[(math.floor((i - 1) / 2) % #pool) + 1]
  local op = (i % 2 == 1) and "add" or "remove"
  local body
  if op == "add" then
    body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"' .. member .. '"}]}]}'
  else
    body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \\"' .. member .. '\\"]"}]}'
  end
  return wrk.format("PATCH", BASE_PATH .. "/Groups/" .. group, H, body)
end
