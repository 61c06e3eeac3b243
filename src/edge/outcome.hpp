// How a request to a wa_pair location ended, for access logs ($wa_pair_outcome).
#pragma once

#include <cstddef>
#include <string_view>

namespace wa_pair {

enum class Outcome {
    none,                    // not decided yet
    ok,                      // 200, a pairing code
    bad_request,             // 400 decided at the edge (body, phone)
    unauthorized,            // 401 (at the edge, or the origin refused the client's token)
    method_not_allowed,      // 405
    request_timeout,         // 408, the body did not arrive in time
    payload_too_large,       // 413
    unsupported_media_type,  // 415
    rate_limited,            // 429 (the edge or the backend)
    already_logged_in,       // 409, the backend says the device is paired already
    backend_rejected,        // 400, the backend refused the request (a 4xx of its own)
    backend_failed,          // 500, the backend answered that it failed
    backend_not_ready,       // 503, the engine answered but its session cannot pair now
    backend_auth_failed,     // 502, the engine refused the credentials nginx sent it
    backend_unavailable,     // 503, no connection (missing socket, refused, permission)
    backend_timeout,         // 504
    bad_backend_answer,      // 502, garbage, a bad code, too large, an undocumented answer
    internal_error,          // 500 decided by the module itself
    client_closed,           // 499, the client went away before the answer
};

// "ok", "bad_request", ... ; "" for none.
std::string_view outcome_name(Outcome outcome) noexcept;

// The outcome of an answer whose status alone tells it: the answers decided by the module
// itself before any backend call, and nginx's own error pages.
Outcome outcome_for_status(int status) noexcept;

// How a finished request ended, as $wa_pair_outcome and the metrics report it: the outcome
// recorded while it was served, else, for an error status, the one that status tells (nginx's
// 408 for a body that stopped, 499 for a client that went away), else none.
Outcome final_outcome(Outcome recorded, int status) noexcept;

inline constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::client_closed) + 1;

}  // namespace wa_pair
