// wuzapi's session (docs/engines.md, "Starting a session"): a user without a client answers
// the pairing call 500 "No session"; POST /session/connect makes the client and connects it
// ("Immediate": true answers at once instead of after 10 s; 500 "Already Connected" when the
// user has a client); GET /session/qr answers the QR wuzapi stored at the connection's first
// QR event, which is when whatsmeow says a pairing code may be asked for (PairPhone's doc).
#include "backend/session_common.hpp"

namespace wa_pair::detail {

namespace {

std::string_view error_of(const json &body) {
    const std::string *error = string_member(body, "error");
    return error != nullptr ? std::string_view(*error) : std::string_view();
}

bool succeeded(const json &body) {
    const json *ok = member(body, "success");
    return ok != nullptr && ok->is_boolean() && ok->get<bool>();
}

}  // namespace

PairReading read_wuzapi_pair(long status, const json &body) {
    PairReading reading;
    if (status == 500 && error_of(body) == "No session") reading.says = SessionSays::not_started;
    return reading;
}

BackendRequest build_wuzapi_step(Step step, const RequestInput &) {
    BackendRequest request;
    request.post = step == Step::start;
    if (request.post) {
        // An empty Subscribe is "All" to wuzapi as well (Connect, handlers.go): it is written
        // to the user's events either way.
        request.body = R"({"Subscribe":["All"],"Immediate":true})";
    }
    return request;
}

StartReading read_wuzapi_start(long status, const json &body) {
    StartReading reading;
    const std::string_view error = error_of(body);
    if (status == 200 && succeeded(body)) {
        reading.result = Started::fresh;
    } else if (status == 500 && error == "Already Connected") {
        reading.result = Started::already;
    } else if (status == 401) {
        reading.failure = auth_failed("refused the configured token (starting the session)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to start the session (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the session's start with an undocumented answer");
    }
    return reading;
}

ReadyReading read_wuzapi_ready(long status, const json &body) {
    ReadyReading reading;
    const std::string_view error = error_of(body);
    if (status == 200 && succeeded(body)) {
        const json *data = member(body, "data");
        const std::string *qr = data != nullptr ? string_member(*data, "QRCode") : nullptr;
        if (qr == nullptr) {
            reading.failure = invalid_answer("answered its QR without data.QRCode");
        } else {
            reading.result = qr->empty() ? Readiness::not_yet : Readiness::ready;
        }
    } else if (status == 500 && (error == "Not connected" || error == "No session")) {
        reading.result = Readiness::not_yet;  // connecting, or its client not made yet
    } else if (status == 500 && error == "Already Loggedin") {
        reading.result = Readiness::ready;  // its pairing call says "Already paired": 409
    } else if (status == 401) {
        reading.failure = auth_failed("refused the configured token (the session's QR)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to answer the session's QR (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the session's QR with an undocumented answer");
    }
    return reading;
}

}  // namespace wa_pair::detail
