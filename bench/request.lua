-- wrk: POST the seed's login body; the token, body and path come from the environment.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"phone":"6281234567890"}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
end
