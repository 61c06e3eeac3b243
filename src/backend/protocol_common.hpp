// Internal to the protocol files (protocol*.cpp): the envelope's texts for backend answers,
// the answer builders every adapter shares, and each protocol's two functions.
#pragma once

#include <string>
#include <string_view>

#include "common/json_parse.hpp"
#include "common/json_scan.hpp"
#include "backend/protocol.hpp"

namespace wa_pair::detail {

using json = nlohmann::json;

inline constexpr std::string_view kAlreadyLoggedIn = "Device is already logged in";
inline constexpr std::string_view kTooMany = "Too many pairing requests";
inline constexpr std::string_view kRejected = "Pairing request was rejected by the backend";
inline constexpr std::string_view kInvalidAnswer = "Invalid answer from the pairing backend";
inline constexpr std::string_view kUnavailable = "Pairing backend is unavailable";
inline constexpr std::string_view kTimedOut = "Pairing backend did not answer in time";
inline constexpr std::string_view kInvalidToken = "Invalid or expired JWT token";

inline constexpr long kMaxSeconds = 86400;
inline constexpr long kDefaultRetryAfter = 30;  // a 429 without a usable Retry-After
inline constexpr long kNotReadyRetryAfter = 5;  // an engine whose session is getting ready
inline constexpr std::size_t kMaxBackendErrorBytes = 200;

// WhatsApp's own rate limit on pairing codes (rate-overlimit), which no engine passes on with
// a Retry-After: WhatsApp does not say how long it lasts, and those who hit it report hours
// (docs/engines.md, "WhatsApp's rate limit"). An hour's cool-down asks it nothing meanwhile.
inline constexpr long kWhatsAppRateLimitRetryAfter = 3600;

// Code lifetimes (docs/engines.md, "Code lifetimes"). whatsmeow's codes live as long as the
// login connection they were made on: about 160 s from its start.
inline constexpr long kWhatsmeowConnectionSeconds = 160;
// An engine that opens the connection in the call itself (origin): what the connection's
// start, the pairing query and the answer's way to nginx take of those 160 s, as a bound.
inline constexpr long kFreshConnectionAllowance = 10;
// An engine that may pair on a connection already open (GoWA, wuzapi, WAHA): its answer
// cannot say since when, so the module assumes at most half the connection's life is gone.
inline constexpr long kOpenConnectionSeconds = kWhatsmeowConnectionSeconds / 2;
// Evolution makes a new code at every QR (every 45 s) and its answer cannot say when the
// current one was made: a code is answered, and reused by the zone, for at most 15 s, and a
// client that asks again gets the code of the moment (which asks WhatsApp for nothing).
inline constexpr long kEvolutionCodeSeconds = 15;

// Every builder below throws only std::bad_alloc; map_answer catches it.
PairCode success(std::string formatted_code, long timeout);
PairCode fail(int code, std::string_view text, Outcome outcome, std::string_view reason);
PairCode already_logged_in(std::string_view reason);
PairCode rate_limited(std::string_view retry_after_header);
PairCode rejected(std::string_view reason);               // 400, generic text
PairCode backend_failed(std::string_view reason);         // 500
PairCode not_ready(std::string_view reason, bool retry);  // 503
PairCode session_down(std::string_view reason);           // 503, no Retry-After, logged at warn
PairCode whatsapp_rate_limited(std::string_view reason);  // 429, kWhatsAppRateLimitRetryAfter
PairCode timed_out(std::string_view reason);              // 504
PairCode auth_failed(std::string_view reason);            // 502
PairCode invalid_answer(std::string_view reason);         // 502
PairCode internal_failure() noexcept;                     // 500, no allocation

// Retry-After as delta-seconds, 0..86400; an HTTP-date or anything else gives -1.
long parse_retry_after(std::string_view value) noexcept;

// 1..200 bytes of printable ASCII: safe to show a client.
bool is_short_printable(std::string_view text) noexcept;

// What a whatsmeow error text says, for the engines that pass whatsmeow's errors on as text
// (origin, GoWA, wuzapi); only ever compared, never shown.
enum class WhatsmeowError {
    other,
    rate_limited,   // WhatsApp's "rate-overlimit" (IQError 429)
    timed_out,      // "info query timed out", "context deadline exceeded"
    not_connected,  // "websocket not connected"
};
WhatsmeowError whatsmeow_error(std::string_view text) noexcept;

// object[key] when `object` is an object that has it, else nullptr.
const json *member(const json &object, const char *key);

// The string at object[key] when it is a string, else nullptr.
const std::string *string_member(const json &object, const char *key);

// A 2xx whose JSON carries the code at `code`: the code formatted, or 502.
PairCode success_from(const json *code, long timeout, std::string_view reason_if_invalid);
PairCode success_from(const JsonValue *code, long timeout, std::string_view reason_if_invalid);

BackendRequest build_native_request(const RequestInput &in);
BackendRequest build_origin_request(const RequestInput &in);
BackendRequest build_gowa_request(const RequestInput &in);
BackendRequest build_waha_request(const RequestInput &in);
BackendRequest build_wuzapi_request(const RequestInput &in);
BackendRequest build_evolution_request(const RequestInput &in);

// Each may throw std::bad_alloc only.
PairCode map_native(long status, std::string_view body, std::string_view retry_after, long default_timeout);
PairCode map_origin(long status, std::string_view body, std::string_view retry_after, long default_timeout);
PairCode map_gowa(long status, std::string_view body, std::string_view retry_after, long default_timeout);
PairCode map_waha(long status, std::string_view body, std::string_view retry_after, long default_timeout);
PairCode map_wuzapi(long status, std::string_view body, std::string_view retry_after, long default_timeout);
PairCode map_evolution(long status, std::string_view body, std::string_view retry_after, long default_timeout);

// "phone=6281234567890": the phone is digits only, so it needs no escaping.
std::string phone_query(std::string_view name, std::string_view phone);

// The JSON object {"<key>":"<value>"}, escaped.
std::string one_field_object(std::string_view key, std::string_view value);

}  // namespace wa_pair::detail
