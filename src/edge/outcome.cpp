// $wa_pair_outcome's values.
#include "edge/outcome.hpp"

namespace wa_pair {

std::string_view outcome_name(Outcome outcome) noexcept {
    switch (outcome) {
    case Outcome::none:
        return "";
    case Outcome::ok:
        return "ok";
    case Outcome::bad_request:
        return "bad_request";
    case Outcome::unauthorized:
        return "unauthorized";
    case Outcome::method_not_allowed:
        return "method_not_allowed";
    case Outcome::request_timeout:
        return "request_timeout";
    case Outcome::payload_too_large:
        return "payload_too_large";
    case Outcome::unsupported_media_type:
        return "unsupported_media_type";
    case Outcome::rate_limited:
        return "rate_limited";
    case Outcome::already_logged_in:
        return "already_logged_in";
    case Outcome::backend_rejected:
        return "backend_rejected";
    case Outcome::backend_failed:
        return "backend_failed";
    case Outcome::backend_not_ready:
        return "backend_not_ready";
    case Outcome::backend_auth_failed:
        return "backend_auth_failed";
    case Outcome::backend_unavailable:
        return "backend_unavailable";
    case Outcome::backend_timeout:
        return "backend_timeout";
    case Outcome::bad_backend_answer:
        return "bad_backend_answer";
    case Outcome::internal_error:
        return "internal_error";
    case Outcome::client_closed:
        return "client_closed";
    }
    return "";
}

Outcome outcome_for_status(int status) noexcept {
    switch (status) {
    case 200:
        return Outcome::ok;
    case 400:
        return Outcome::bad_request;
    case 401:
        return Outcome::unauthorized;
    case 405:
        return Outcome::method_not_allowed;
    case 408:
        return Outcome::request_timeout;
    case 409:
        return Outcome::already_logged_in;
    case 413:
        return Outcome::payload_too_large;
    case 415:
        return Outcome::unsupported_media_type;
    case 429:
        return Outcome::rate_limited;
    case 499:
        return Outcome::client_closed;
    case 502:
        return Outcome::bad_backend_answer;
    case 503:
        return Outcome::backend_unavailable;
    case 504:
        return Outcome::backend_timeout;
    default:
        break;
    }
    if (status >= 400 && status <= 499) return Outcome::bad_request;  // 403, 414, 431 ...
    return Outcome::internal_error;
}

Outcome final_outcome(Outcome recorded, int status) noexcept {
    if (recorded != Outcome::none || status < 400) return recorded;
    return outcome_for_status(status);
}

}  // namespace wa_pair
