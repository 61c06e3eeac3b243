// GoWA, aldinokemal/go-whatsapp-web-multidevice v8 or later (docs/engines.md#gowa):
// GET /app/login-with-code?phone=<digits> with X-Device-Id (and Basic auth, configured with
// wa_pair_backend_header Authorization); 200 {"code":"SUCCESS","results":{"pair_code":..}};
// errors {"code":"<ERROR_CODE>","message":".."} where the code names the failure, and
// whatsmeow's own errors as 500 INTERNAL_SERVER_ERROR with its text as the message.
#include "backend/protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// GoWA URL-unescapes X-Device-Id (Go's url.QueryUnescape: "%XX" is a byte, "+" a space) and
// keeps the raw value only when an escape is invalid. Every byte but the unreserved ones is
// sent as %XX, so that whatever the id, GoWA decodes it back to itself.
std::string device_header(std::string_view device_id) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(device_id.size());
    for (const char c : device_id) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                                u == '-' || u == '_' || u == '.' || u == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0x0f];
        }
    }
    return out;
}

// INTERNAL_SERVER_ERROR's message is the Go error's text: whatsmeow's when pairing failed at
// WhatsApp. Compared only; never shown, never logged.
PairCode map_internal(const json &answer) {
    const std::string *message = string_member(answer, "message");
    if (message != nullptr && whatsmeow_error(*message) == WhatsmeowError::rate_limited) {
        return whatsapp_rate_limited("answered WhatsApp's rate-overlimit (as a 500)");
    }
    return backend_failed("answered a 5xx");
}

// VALIDATION_ERROR's message repeats the phone number: never shown, never logged.
PairCode map_error(long status, const json &answer) {
    const std::string *code = string_member(answer, "code");
    const std::string_view name = code != nullptr ? std::string_view(*code) : std::string_view();
    if (name == "ALREADY_LOGGED_IN") return already_logged_in("ALREADY_LOGGED_IN");
    if (name == "VALIDATION_ERROR") return rejected("VALIDATION_ERROR: the engine refused the phone");
    if (name == "GATEWAY_TIMEOUT") return timed_out("GATEWAY_TIMEOUT: WhatsApp did not answer the engine in time");
    if (name == "DEVICE_NOT_FOUND") {
        return session_down("DEVICE_NOT_FOUND: the engine has no such device (create it: POST /devices)");
    }
    if (name == "DEVICE_MANAGER_UNAVAILABLE") {
        return not_ready("DEVICE_MANAGER_UNAVAILABLE: the engine is starting", true);
    }
    if (name == "INTERNAL_SERVER_ERROR" && status == 500) return map_internal(answer);
    // Since v8 this route answers no AUTHENTICATION_ERROR (a failed connection is a 500): a
    // 401 or 403 is fiber's Basic auth refusing the operator's credentials.
    if (status == 401 || status == 403) {
        return auth_failed("refused the configured credentials (Basic auth)");
    }
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented error");
}

}  // namespace

BackendRequest build_gowa_request(const RequestInput &in) {
    BackendRequest request;
    request.post = false;
    request.query = phone_query("phone", in.phone);
    request.headers.push_back(Header{"X-Device-Id", device_header(in.device_id)});
    return request;
}

PairCode map_gowa(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    const json answer = parse_json(body);
    if (status == 200) {
        const std::string *code = string_member(answer, "code");
        if (code == nullptr || *code != "SUCCESS") return invalid_answer("answered 200 without code SUCCESS");
        const json *results = member(answer, "results");
        return success_from(results != nullptr ? member(*results, "pair_code") : nullptr, default_timeout,
                            "answered 200 without a valid results.pair_code");
    }
    if (status == 429) return rate_limited(retry_after);
    if (status >= 400 && status <= 599) return map_error(status, answer);
    return invalid_answer("answered an unexpected status");
}

}  // namespace wa_pair::detail
