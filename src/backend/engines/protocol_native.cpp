// The native protocol (docs/protocol.md): POST /v1/pair-code with
// {"device_id":"dev-42","phone":"6281234567890"}; 200 {"pair_code":..,"timeout":..}.
#include <cstdint>

#include "backend/protocol_common.hpp"

namespace wa_pair {

namespace detail {

namespace {

// The answers are read with the scanner (json_scan.hpp), not a DOM: this is every call's path.
PairCode map_success(std::string_view body, long default_timeout) {
    JsonObject answer;
    if (scan_json_object(body, answer) != JsonScan::object) {
        return invalid_answer("answered 200 without a JSON object");
    }

    PairCode result = success_from(answer.find("pair_code"), default_timeout, "answered 200 without a valid pair_code");
    if (result.failure) return result;

    if (const JsonValue *t = answer.find("timeout"); t != nullptr && !t->is_null()) {
        // An integer 1..86400; 120.0, "120", -1 and 2^64 are not.
        if (!t->is_number() || t->number != JsonNumber::unsigned_integer) {
            return invalid_answer("answered 200 with a bad timeout");
        }
        const std::uint64_t seconds = t->unsigned_value;
        if (seconds < 1 || seconds > static_cast<std::uint64_t>(kMaxSeconds)) {
            return invalid_answer("answered 200 with a bad timeout");
        }
        result.timeout = static_cast<long>(seconds);
    }
    return result;
}

// Another 4xx: the engine's {"error":"..."} when it is short printable ASCII, never raw.
PairCode map_rejection(std::string_view body) {
    JsonObject answer;
    if (scan_json_object(body, answer) == JsonScan::object) {
        if (const JsonValue *error = answer.find("error"); error != nullptr && error->is_string()) {
            std::string scratch;
            const std::string_view text = error->decoded(scratch);
            if (is_short_printable(text)) {
                return fail(400, text, Outcome::backend_rejected, "refused the request");
            }
        }
    }
    return rejected("refused the request");
}

}  // namespace

BackendRequest build_native_request(const RequestInput &in) {
    BackendRequest request;
    request.post = true;
    request.headers.push_back(Header{"X-Device-Id", std::string(in.device_id)});
    request.body = backend_request_body(in.device_id, in.phone);
    return request;
}

PairCode map_native(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    if (status == 200) return map_success(body, default_timeout);
    if (status == 409) return already_logged_in("the device is already logged in");
    if (status == 429) return rate_limited(retry_after);
    if (status >= 400 && status <= 499) return map_rejection(body);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an unexpected status");  // 1xx, 3xx, another 2xx
}

}  // namespace detail

std::string backend_request_body(std::string_view device_id, std::string_view phone) {
    std::string body;
    body.reserve(32 + device_id.size() + phone.size());
    body += "{\"device_id\":";
    append_json_string(body, device_id);
    body += ",\"phone\":";
    append_json_string(body, phone);
    body += '}';
    return body;
}

}  // namespace wa_pair
