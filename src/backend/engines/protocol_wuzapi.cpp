// wuzapi, asternic/wuzapi (docs/engines.md#wuzapi): POST /session/pairphone with
// {"Phone":"<digits>"} and the user's `token` header (configured with wa_pair_backend_header);
// every answer is {"code":<status>,"success":..,"data":..|"error":".."}. whatsmeow's errors
// come back as a 400 whose `error` is whatsmeow's text (WhatsApp's rate limit among them).
#include "backend/protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// A 400 that is not one of wuzapi's own texts: whatsmeow's PairPhone error, compared only
// (never shown, never logged).
PairCode map_pairing_error(std::string_view text) {
    switch (whatsmeow_error(text)) {
    case WhatsmeowError::rate_limited:
        return whatsapp_rate_limited("answered WhatsApp's rate-overlimit (as a 400)");
    case WhatsmeowError::timed_out:
        return timed_out("answered that WhatsApp did not answer it in time (as a 400)");
    case WhatsmeowError::not_connected:
        // The user's client exists but its connection failed; wuzapi does not reconnect it.
        return session_down("answered that the session's WhatsApp connection is down (connect it again)");
    case WhatsmeowError::other:
        break;
    }
    return rejected("refused the request");
}

}  // namespace

BackendRequest build_wuzapi_request(const RequestInput &in) {
    BackendRequest request;
    request.post = true;
    request.body = one_field_object("Phone", in.phone);
    return request;
}

PairCode map_wuzapi(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    const json answer = parse_json(body);
    if (status == 200) {
        const json *ok = member(answer, "success");
        if (ok == nullptr || !ok->is_boolean() || !ok->get<bool>()) {
            return invalid_answer("answered 200 without success");
        }
        const json *data = member(answer, "data");
        return success_from(data != nullptr ? member(*data, "LinkingCode") : nullptr, default_timeout,
                            "answered 200 without a valid data.LinkingCode");
    }
    const std::string *error = string_member(answer, "error");
    const std::string_view text = error != nullptr ? std::string_view(*error) : std::string_view();
    if (status == 400 && text == "Already paired") return already_logged_in("\"Already paired\"");
    if (status == 500 && text == "No session") {
        return session_down("\"No session\": the user's session is not started (POST /session/connect)");
    }
    if (status == 401) return auth_failed("refused the configured token");
    if (status == 429) return rate_limited(retry_after);
    if (status == 400) return map_pairing_error(text);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
