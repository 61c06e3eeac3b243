// GoWA, aldinokemal/go-whatsapp-web-multidevice (docs/engines.md#gowa):
// GET /app/login-with-code?phone=<digits> with X-Device-Id (and Basic auth, configured with
// wa_pair_backend_header Authorization); 200 {"code":"SUCCESS","results":{"pair_code":..}};
// errors {"code":"<ERROR_CODE>","message":".."} where the code names the failure.
#include "protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// VALIDATION_ERROR's message repeats the phone number: never shown, never logged.
PairCode map_error(long status, const std::string* code)
{
    const std::string_view name = code != nullptr ? std::string_view(*code) : std::string_view();
    if (name == "ALREADY_LOGGED_IN") return already_logged_in("ALREADY_LOGGED_IN");
    if (name == "VALIDATION_ERROR") return rejected("VALIDATION_ERROR: the engine refused the phone");
    if (name == "GATEWAY_TIMEOUT") return timed_out("GATEWAY_TIMEOUT: WhatsApp did not answer the engine in time");
    if (name == "AUTHENTICATION_ERROR") {
        return not_ready("AUTHENTICATION_ERROR: the engine is not connected to WhatsApp", true);
    }
    if (name == "DEVICE_NOT_FOUND") return not_ready("DEVICE_NOT_FOUND: no such device in the engine", false);
    if (name == "DEVICE_MANAGER_UNAVAILABLE") {
        return not_ready("DEVICE_MANAGER_UNAVAILABLE: the engine is starting", true);
    }
    if (status == 401 || status == 403) {
        return auth_failed("refused the configured credentials (Basic auth)");
    }
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented error");
}

}  // namespace

BackendRequest build_gowa_request(const RequestInput& in)
{
    BackendRequest request;
    request.post = false;
    request.query = phone_query("phone", in.phone);
    request.headers.push_back(Header{"X-Device-Id", std::string(in.device_id)});
    return request;
}

PairCode map_gowa(long status, std::string_view body, std::string_view retry_after,
                  long default_timeout)
{
    const json answer = parse_json(body);
    const std::string* code = string_member(answer, "code");
    if (status == 200) {
        if (code == nullptr || *code != "SUCCESS") return invalid_answer("answered 200 without code SUCCESS");
        const json* results = member(answer, "results");
        return success_from(results != nullptr ? member(*results, "pair_code") : nullptr,
                            default_timeout, "answered 200 without a valid results.pair_code");
    }
    if (status == 429) return rate_limited(retry_after);
    if (status >= 400 && status <= 599) return map_error(status, code);
    return invalid_answer("answered an unexpected status");
}

}  // namespace wa_pair::detail
