// WAHA, devlikeapro/waha (docs/engines.md#waha): POST /api/{session}/auth/request-code with
// {"phoneNumber":"<digits>"} and X-Api-Key (configured with wa_pair_backend_header);
// 201 (NestJS's default for a POST; 200 accepted too) {"code":"ABCD-EFGH"}; NestJS errors
// {"message":..,"error":..,"statusCode":..}.
#include "protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// NOWEB: "Can request code only in SCAN_QR_CODE status. The current status is WORKING".
constexpr std::string_view kWorking = "The current status is WORKING";

}  // namespace

BackendRequest build_waha_request(const RequestInput& in)
{
    BackendRequest request;
    request.post = true;
    request.body = one_field_object("phoneNumber", in.phone);
    return request;
}

PairCode map_waha(long status, std::string_view body, std::string_view retry_after,
                  long default_timeout)
{
    const json answer = parse_json(body);
    if (status == 200 || status == 201) {
        return success_from(member(answer, "code"), default_timeout,
                            "answered without a valid code");
    }
    if (status == 422) {
        // The session is not waiting for a scan. WORKING means it is paired already; any
        // other status (STARTING, STOPPED, FAILED) may change: the client is told when to retry.
        const std::string* message = string_member(answer, "message");
        if (message != nullptr && message->find(kWorking) != std::string::npos) {
            return already_logged_in("422: the session is WORKING (already paired)");
        }
        return not_ready("422: the session is not waiting for a scan", true);
    }
    if (status == 404) return not_ready("404: no such session (not started)", false);
    if (status == 401 || status == 403) return auth_failed("refused the configured X-Api-Key");
    if (status == 429) return rate_limited(retry_after);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
