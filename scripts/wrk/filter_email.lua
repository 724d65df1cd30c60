-- GET /Users?filter=emails.value eq "userK@example.com", K uniform over the seeded users.
-- args: N OFFSET   (the peers' common.lua gives BASE_PATH and hdrs())
dofile((os.getenv("WRK_LUA_DIR") or ".") .. "/common.lua")
local n, offset, H
function init(args)
  n, offset = tonumber(args[1] or "10000"), tonumber(args[2] or "10000")
  math.randomseed(os.time() * 1000 + (tid or 0))
  H = hdrs()
end
function request()
  local k = offset + math.random(0, n - 1)
  return wrk.format("GET", BASE_PATH .. "/Users?filter=emails.value%20eq%20%22user" .. k .. "%40example.com%22", H)
end
