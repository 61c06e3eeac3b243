// Evolution API's instance (docs/engines.md, "Starting a session"). Its pairing call is its
// start: on a closed instance the controller connects with the number, waits 2 s and answers
// the QR state, which connecting does not reset (instance.controller.ts, connectToWhatsapp).
// At each QR of a connection Evolution sets the QR state's pairingCode (1 s after the QR, for
// the connection's number) and only then its code and base64 (whatsapp.baileys.service.ts,
// connectionUpdate): a QR state whose code changed holds a pairing code of a QR that came
// after. GET /instance/connectionState/{instance} says "connecting", "open" or "close" without
// side effects; the pairing call in state "connecting" only reads the QR state.
#include "backend/session_common.hpp"

namespace wa_pair::detail {

bool is_evolution_qr_state(const json &body) {
    if (!body.is_object() || member(body, "instance") != nullptr || member(body, "error") != nullptr) {
        return false;
    }
    return member(body, "pairingCode") != nullptr || member(body, "code") != nullptr ||
           member(body, "count") != nullptr || member(body, "base64") != nullptr;
}

QrMemory evolution_qr_memory(const json &body) {
    QrMemory memory;
    if (const std::string *code = string_member(body, "code")) {
        memory.has_code = true;
        memory.code = *code;
    }
    if (const std::string *pairing = string_member(body, "pairingCode")) {
        if (std::optional<std::string> formatted = format_pair_code(*pairing)) memory.pairing = std::move(*formatted);
    }
    return memory;
}

namespace {

bool has_pairing_code(const json &body) {
    const json *code = member(body, "pairingCode");
    return code != nullptr && code->is_string();
}

}  // namespace

PairReading read_evolution_pair(long status, const json &body, std::int64_t duration_ms) {
    PairReading reading;
    if (status != 200 || !is_evolution_qr_state(body)) return reading;
    if (duration_ms >= SessionExchange::kEvolutionCloseMs) {
        reading.says = SessionSays::started_by_call;
    } else if (!has_pairing_code(body)) {
        reading.says = SessionSays::starting;
    } else {
        return reading;  // state "connecting" with a code: the code of the moment
    }
    reading.qr = evolution_qr_memory(body);
    return reading;
}

BackendRequest build_evolution_step(Step, const RequestInput &) {
    BackendRequest request;
    request.post = false;  // GET .../instance/connectionState/{instance}
    return request;
}

ReadyReading read_evolution_ready(long status, const json &body) {
    ReadyReading reading;
    if (status == 200) {
        const json *instance = member(body, "instance");
        const std::string *state = instance != nullptr ? string_member(*instance, "state") : nullptr;
        const std::string_view s = state != nullptr ? std::string_view(*state) : std::string_view();
        if (s == "connecting") {
            reading.result = Readiness::read;
        } else if (s == "open") {
            reading.failure = already_logged_in("the instance's state is open (already connected)");
        } else if (s == "close") {
            reading.failure = session_down("says the instance's connection closed after it started");
        } else {
            reading.failure = invalid_answer("answered the instance's state with an undocumented one");
        }
    } else if (status == 404) {
        reading.failure = session_down("has no such instance (create it: POST /instance/create)");
    } else if (status == 401 || status == 403) {
        reading.failure = auth_failed("refused the configured apikey (the instance's state)");
    } else if (status >= 500 && status <= 599) {
        reading.failure = backend_failed("failed to say the instance's state (a 5xx)");
    } else {
        reading.failure = invalid_answer("answered the instance's state with an undocumented status");
    }
    return reading;
}

QrRead read_evolution_qr(long status, std::string_view body, const QrMemory &before, std::int64_t duration_ms,
                         long configured_timeout) {
    QrRead reading;
    const json parsed = parse_json(body);
    if (status == 200 && is_evolution_qr_state(parsed)) {
        if (duration_ms >= SessionExchange::kEvolutionCloseMs) {
            // The instance had closed again between its state and this read, which started it
            // anew: its answer is the close branch's, and the exchange makes no more starts.
            reading.answer = not_ready(
                "its instance closed again while its session started (the "
                "QR state read started it anew): not answered",
                true);
            reading.answer.log_level = LogLevel::warn;
            reading.restarted = true;
            reading.qr = evolution_qr_memory(parsed);
            return reading;
        }
        const QrMemory now = evolution_qr_memory(parsed);
        if (!has_pairing_code(parsed) || !now.has_code || (before.has_code && now.code == before.code)) {
            reading.not_yet = true;
            return reading;
        }
        reading.answer = map_answer(Protocol::evolution, status, body, "", configured_timeout);
        reading.fresh = !reading.answer.failure;
        return reading;
    }
    // Anything else is what it would be to a pairing call: open (409), {"error":true} ...
    reading.answer = map_answer(Protocol::evolution, status, body, "", configured_timeout);
    if (!reading.answer.failure) reading.answer = invalid_answer("answered a code outside a QR state");
    return reading;
}

}  // namespace wa_pair::detail
