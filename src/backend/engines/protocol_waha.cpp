// WAHA, devlikeapro/waha (docs/engines.md#waha): POST /api/{session}/auth/request-code with
// {"phoneNumber":"<digits>"} and X-Api-Key (configured with wa_pair_backend_header);
// 201 (NestJS's default for a POST; 200 accepted too) {"code":"ABCD-EFGH"}; NestJS errors
// {"message":..,"error":..,"statusCode":..}. A session that cannot pair says why in a 422
// whose message names the session's status: each status is mapped by what it means.
#include "backend/protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// NOWEB's requestCode: "Can request code only in SCAN_QR_CODE status. The current status is
// <STATUS>" (WAHASessionStatus: STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED).
constexpr std::string_view kStatusPrefix = "Can request code only in SCAN_QR_CODE status. The current status is ";
// NotImplementedByEngineError: an engine without pairing codes.
constexpr std::string_view kNotImplemented = "The method is not implemented by the engine.";
// SessionManager.getSession: no session runs under that name.
constexpr std::string_view kNoSession = "We didn't find a session with name ";

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

PairCode map_status(std::string_view status) {
    if (status == "WORKING") return already_logged_in("422: the session is WORKING (already paired)");
    if (status == "STARTING") return not_ready("422: the session is STARTING", true);
    if (status == "STOPPED") return session_down("422: the session is STOPPED (start it)");
    if (status == "FAILED") return session_down("422: the session is FAILED (restart it)");
    return invalid_answer("422: an undocumented session status");
}

PairCode map_unprocessable(const json &answer) {
    const std::string *message = string_member(answer, "message");
    const std::string_view text = message != nullptr ? std::string_view(*message) : std::string_view();
    if (starts_with(text, kStatusPrefix)) return map_status(text.substr(kStatusPrefix.size()));
    if (starts_with(text, kNotImplemented)) {
        return invalid_answer("422: the engine does not implement pairing codes (use NOWEB or WEBJS)");
    }
    return invalid_answer("422: an undocumented refusal");
}

PairCode map_not_found(const json &answer) {
    const std::string *message = string_member(answer, "message");
    if (message != nullptr && starts_with(*message, kNoSession)) {
        return session_down("404: the session is not running (start it: POST /api/sessions/{name}/start)");
    }
    return invalid_answer("404: no such route (check the path in wa_pair_backend)");
}

}  // namespace

BackendRequest build_waha_request(const RequestInput &in) {
    BackendRequest request;
    request.post = true;
    request.body = one_field_object("phoneNumber", in.phone);
    return request;
}

PairCode map_waha(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    const json answer = parse_json(body);
    if (status == 200 || status == 201) {
        return success_from(member(answer, "code"), default_timeout, "answered without a valid code");
    }
    if (status == 422) return map_unprocessable(answer);
    if (status == 404) return map_not_found(answer);
    if (status == 401 || status == 403) return auth_failed("refused the configured X-Api-Key");
    if (status == 429) return rate_limited(retry_after);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
