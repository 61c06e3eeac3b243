// Evolution API, EvolutionAPI/evolution-api (docs/engines.md#evolution):
// GET /instance/connect/{instance}?number=<digits> with the `apikey` header (configured with
// wa_pair_backend_header). Every outcome of the controller is a 200: the instance's QR state
// {"pairingCode":..,"code":..,"base64":..,"count":..}, {"instance":{..,"state":"open"}} when
// it is connected, or {"error":true,"message":..} when it failed.
//
// The QR state never says when its code was made nor for which number: Evolution makes a new
// code at every QR (every 45 s) for the number the connection was started with, and a closed
// instance's answer, 2 s after it starts connecting, may still hold the previous attempt's
// code. So a code is answered for kEvolutionCodeSeconds at most (protocol.cpp), and a client
// that asks again gets the code of the moment.
#include "backend/protocol_common.hpp"

namespace wa_pair::detail {

namespace {

PairCode map_ok(const json &answer, long default_timeout) {
    if (!answer.is_object()) return invalid_answer("answered 200 without a JSON object");
    if (const json *error = member(answer, "error"); error != nullptr && error->is_boolean() && error->get<bool>()) {
        return invalid_answer("answered 200 with {\"error\":true}");
    }
    if (const json *instance = member(answer, "instance"); instance != nullptr) {
        const std::string *state = string_member(*instance, "state");
        if (state != nullptr && *state == "open") {
            return already_logged_in("the instance's state is open (already connected)");
        }
        // The controller's last branch, a state that is neither open, connecting nor close:
        // Baileys' connections have no other.
        return invalid_answer("answered an undocumented instance state");
    }
    const json *code = member(answer, "pairingCode");
    if (code != nullptr && !code->is_null()) {
        return success_from(code, default_timeout, "answered 200 with an invalid pairingCode");
    }
    // The QR state without a pairing code yet (Baileys asks WhatsApp for it after the QR).
    if (member(answer, "code") != nullptr || member(answer, "count") != nullptr ||
        member(answer, "base64") != nullptr) {
        return not_ready("no pairingCode yet (null)", true);
    }
    return invalid_answer("answered 200 with an undocumented object");
}

// The instance guard's 404 names the instance; any other 404 is a route Evolution lacks.
PairCode map_not_found(const json &answer) {
    const json *response = member(answer, "response");
    const json *message = response != nullptr ? member(*response, "message") : nullptr;
    const auto names_missing_instance = [](const json &text) {
        return text.is_string() &&
               text.get_ref<const std::string &>().find("instance does not exist") != std::string::npos;
    };
    bool missing = false;
    if (message != nullptr && message->is_array()) {
        for (const json &item : *message) missing = missing || names_missing_instance(item);
    } else if (message != nullptr) {
        missing = names_missing_instance(*message);
    }
    if (missing) return session_down("404: no such instance (create it: POST /instance/create)");
    return invalid_answer("404: no such route (check the path in wa_pair_backend)");
}

}  // namespace

BackendRequest build_evolution_request(const RequestInput &in) {
    BackendRequest request;
    request.post = false;
    request.query = phone_query("number", in.phone);
    return request;
}

PairCode map_evolution(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    if (status == 200) return map_ok(parse_json(body), default_timeout);
    if (status == 404) return map_not_found(parse_json(body));
    if (status == 401 || status == 403) return auth_failed("refused the configured apikey");
    if (status == 429) return rate_limited(retry_after);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
