// go-whatsapp-multi-session-rest-api, the project whose documented contract this module
// serves (docs/engines.md#origin). Its code answers differently from its doc: data.PairCode and
// data.Timeout, "Success Generate Pairing Code", an already-paired device as a 200 whose
// "code" is a sentence, and whatsmeow's raw error texts in 500s (WhatsApp's rate limit
// among them). The client's token is passed through: the origin authenticates the device
// itself. Each call opens a new WhatsApp connection, so its code's 160 s start in the call.
#include <cstdint>

#include "common/ascii.hpp"
#include "backend/protocol_common.hpp"

namespace wa_pair::detail {

namespace {

// whatsapp.go: WhatsAppLoginPair() answers this instead of a code when the device is paired.
constexpr std::string_view kReconnected = "WhatsApp Client is Reconnected";

using ascii::is_blank;

// "Bearer <token>" or "<token>" (both accepted at the edge) -> "<token>".
std::string_view bearer_token(std::string_view authorization) noexcept {
    authorization = ascii::trim_blank(authorization);
    constexpr std::string_view kScheme = "bearer";
    if (authorization.size() > kScheme.size() && is_blank(authorization[kScheme.size()])) {
        bool scheme = true;
        for (std::size_t i = 0; i < kScheme.size(); ++i) {
            const char c = authorization[i];
            scheme = scheme && (c | 0x20) == kScheme[i];
        }
        if (scheme) {
            authorization.remove_prefix(kScheme.size());
            while (!authorization.empty() && is_blank(authorization.front())) {
                authorization.remove_prefix(1);
            }
        }
    }
    return authorization;
}

PairCode map_success(std::string_view body, long default_timeout) {
    const json answer = parse_json(body);
    const json *data = member(answer, "data");
    const std::string *code = data != nullptr ? string_member(*data, "PairCode") : nullptr;
    if (code != nullptr && *code == kReconnected) {
        return already_logged_in("answered \"WhatsApp Client is Reconnected\": already paired");
    }
    PairCode result = success_from(data != nullptr ? member(*data, "PairCode") : nullptr, default_timeout,
                                   "answered 200 without a valid data.PairCode");
    if (result.failure) return result;
    if (const json *t = member(*data, "Timeout"); t != nullptr && !t->is_null()) {
        if (!t->is_number_unsigned() || t->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxSeconds)) {
            return invalid_answer("answered 200 with a bad data.Timeout");
        }
        const long seconds = static_cast<long>(t->get<std::uint64_t>());
        if (seconds > 0) result.timeout = seconds;  // 0 accompanies no code: keep the default
    }
    return result;
}

// A 500 carries the Go error's text as `error` (and `message`): whatsmeow's, when pairing
// failed at WhatsApp. Compared only; never shown, never logged.
PairCode map_failure(std::string_view body) {
    const json answer = parse_json(body);
    const std::string *error = string_member(answer, "error");
    switch (whatsmeow_error(error != nullptr ? std::string_view(*error) : std::string_view())) {
    case WhatsmeowError::rate_limited:
        return whatsapp_rate_limited("answered WhatsApp's rate-overlimit (as a 500)");
    case WhatsmeowError::timed_out:
        return timed_out("answered that WhatsApp did not answer it in time (as a 500)");
    default:
        return backend_failed("answered a 5xx");
    }
}

}  // namespace

BackendRequest build_origin_request(const RequestInput &in) {
    BackendRequest request;
    request.post = true;
    const std::string_view token = bearer_token(in.authorization);
    if (!token.empty()) {
        // The origin's DeviceAuth middleware takes only "Bearer <token>".
        std::string value = "Bearer ";
        value += token;
        request.headers.push_back(Header{"Authorization", std::move(value)});
    }
    request.body = one_field_object("phone", in.phone);
    return request;
}

PairCode map_origin(long status, std::string_view body, std::string_view retry_after, long default_timeout) {
    if (status == 200) return map_success(body, default_timeout);
    if (status == 400) {
        // Its 400 texts are written for API clients ("Phone is required").
        const json answer = parse_json(body);
        if (const std::string *error = string_member(answer, "error"); error != nullptr && is_short_printable(*error)) {
            return fail(400, *error, Outcome::backend_rejected, "refused the request");
        }
        return rejected("refused the request");
    }
    if (status == 401) {
        PairCode answer = fail(401, kInvalidToken, Outcome::unauthorized,
                               "refused the client's token (revoked, or an unknown device)");
        answer.invalid_token = true;
        return answer;
    }
    if (status == 429) return rate_limited(retry_after);
    if (status == 500) return map_failure(body);
    if (status >= 500 && status <= 599) return backend_failed("answered a 5xx");
    return invalid_answer("answered an undocumented status");
}

}  // namespace wa_pair::detail
