// WAHA's session (docs/engines.md, "Starting a session"): a session not running answers the
// pairing call 404 "We didn't find a session with name '<name>'" (SessionManager.getSession);
// POST /api/sessions/{name}/start starts it (201, the session's info; 422 when it runs
// already; 404 "Session not found" when it does not exist); GET /api/sessions/{name} says its
// status, SCAN_QR_CODE when it can pair. NOWEB also answers 422 "... The current status is
// STARTING" to a pairing call that comes while its first QR is on its way.
#include "backend/session_common.hpp"

namespace wa_pair::detail {

namespace {

constexpr std::string_view kNoSession = "We didn't find a session with name ";
constexpr std::string_view kStarting = "Can request code only in SCAN_QR_CODE status. The current status is STARTING";
constexpr std::string_view kAlreadyStarted = "' is already started.";

std::string_view message_of(const json &body) {
    const std::string *message = string_member(body, "message");
    return message != nullptr ? std::string_view(*message) : std::string_view();
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

PairReading read_waha_pair(long status, const json &body) {
    PairReading reading;
    if (status == 404 && starts_with(message_of(body), kNoSession)) {
        reading.says = SessionSays::not_started;
    } else if (status == 422 && message_of(body) == kStarting) {
        reading.says = SessionSays::starting;
    }
    return reading;
}

BackendRequest build_waha_step(Step step, const RequestInput &) {
    BackendRequest request;
    request.post = step == Step::start;  // POST .../start without a body; GET the session
    return request;
}

StartReading read_waha_start(long status, const json &body) {
    StartReading reading;
    if (status == 200 || status == 201) {
        reading.result = Started::fresh;
    } else if (status == 422) {
        const std::optional<std::string_view> prefix = strip_suffix(message_of(body), kAlreadyStarted);
        if (prefix && starts_with(*prefix, "Session '")) {
            reading.result = Started::already;
        } else {
            reading.failure = invalid_answer("refused to start the session (422)");
        }
    } else if (status == 404) {
        reading.failure = session_down("has no such session to start (create it: POST /api/sessions)");
    } else if (status == 401 || status == 403) {
        reading.failure = auth_failed("refused the configured X-Api-Key (starting the session)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to start the session (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the session's start with an undocumented status");
    }
    return reading;
}

ReadyReading read_waha_ready(long status, const json &body) {
    ReadyReading reading;
    if (status == 200) {
        const std::string *state = string_member(body, "status");
        const std::string_view s = state != nullptr ? std::string_view(*state) : std::string_view();
        if (s == "SCAN_QR_CODE" || s == "WORKING") {
            reading.result = Readiness::ready;  // WORKING: its pairing call says 409
        } else if (s == "STARTING") {
            reading.result = Readiness::not_yet;
        } else if (s == "FAILED") {
            reading.failure = session_down("says the session FAILED after its start (restart it)");
        } else if (s == "STOPPED") {
            reading.failure = session_down("says the session STOPPED after its start");
        } else {
            reading.failure = invalid_answer("answered the session's status with an undocumented one");
        }
    } else if (status == 404) {
        reading.failure = session_down("has no such session (create it: POST /api/sessions)");
    } else if (status == 401 || status == 403) {
        reading.failure = auth_failed("refused the configured X-Api-Key (the session's status)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to say the session's status (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the session's status with an undocumented status");
    }
    return reading;
}

}  // namespace wa_pair::detail
