// GoWA's device (docs/engines.md, "Starting a session"): a device it does not know answers the
// pairing call 404 DEVICE_NOT_FOUND (its device middleware); POST /devices {"device_id":..}
// creates it (200 SUCCESS "Device added"; a 500 "device <id> already exists" when it does);
// then its login-with-code connects the new device itself: no readiness call.
#include "backend/session_common.hpp"

namespace wa_pair::detail {

namespace {

std::string_view field(const json &body, const char *key) {
    const std::string *value = string_member(body, key);
    return value != nullptr ? std::string_view(*value) : std::string_view();
}

}  // namespace

PairReading read_gowa_pair(long status, const json &body) {
    PairReading reading;
    if (status == 404 && field(body, "code") == "DEVICE_NOT_FOUND") {
        reading.says = SessionSays::not_started;
    }
    return reading;
}

BackendRequest build_gowa_step(Step step, const RequestInput &in) {
    BackendRequest request;
    request.post = step == Step::start;
    if (request.post) {
        // The id as GoWA's middleware decodes X-Device-Id: the raw id, JSON-escaped.
        request.body = one_field_object("device_id", in.device_id);
    }
    return request;
}

StartReading read_gowa_start(long status, const json &body) {
    StartReading reading;
    const std::string_view code = field(body, "code");
    if (status == 200 && code == "SUCCESS") {
        reading.result = Started::fresh;
    } else if (status == 500 && code == "INTERNAL_SERVER_ERROR" &&
               strip_suffix(field(body, "message"), " already exists")) {
        reading.result = Started::already;
    } else if (status == 503 && code == "DEVICE_MANAGER_UNAVAILABLE") {
        reading.failure = not_ready("DEVICE_MANAGER_UNAVAILABLE: the engine is starting (creating the device)", true);
    } else if (status == 401 || status == 403) {
        reading.failure = auth_failed("refused the configured credentials (creating the device)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to create the device (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the device's creation with an undocumented answer");
    }
    return reading;
}

}  // namespace wa_pair::detail
