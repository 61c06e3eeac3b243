// Evolution API, EvolutionAPI/evolution-api (docs/engines.md#evolution):
// GET /instance/connect/{instance}?number=<digits> with the `apikey` header (configured with
// wa_pair_backend_header). Every outcome of the controller is a 200: the instance's QR state
// {"pairingCode":..,"code":..,"base64":..,"count":..}, {"instance":{..,"state":"open"}} when
// it is connected, or {"error":true,"message":..} when it failed.
#include "protocol_common.hpp"

namespace wa_pair::detail {

namespace {

PairCode map_ok(const json& answer, long default_timeout)
{
    if (!answer.is_object()) return invalid_answer("answered 200 without a JSON object");
    if (const json* error = member(answer, "error"); error != nullptr && error->is_boolean() &&
                                                     error->get<bool>()) {
        return invalid_answer("answered 200 with {\"error\":true}");
    }
    if (const json* instance = member(answer, "instance"); instance != nullptr) {
        const std::string* state = string_member(*instance, "state");
        if (state != nullptr && *state == "open") {
            return already_logged_in("the instance's state is open (already connected)");
        }
        return not_ready("the instance is neither connecting nor open", true);
    }
    const json* code = member(answer, "pairingCode");
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

}  // namespace

BackendRequest build_evolution_request(const RequestInput& in)
{
    BackendRequest request;
    request.post = false;
    request.query = phone_query("number", in.phone);
    return request;
}

PairCode map_evolution(long status, std::string_view body, std::string_view retry_after,
                       long default_timeout)
{
    if (status == 200) return map_ok(parse_json(body), default_timeout);
    if (status == 404) return not_ready("404: no such instance", false);
    if (status == 401 || status == 403) return auth_failed("refused the configured apikey");
    if (status == 429) return rate_limited(retry_after);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
