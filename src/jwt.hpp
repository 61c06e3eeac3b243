// Authorization header -> device id. JWT verification with OpenSSL (DESIGN.md section 5).
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "envelope.hpp"

namespace wa_pair {

inline constexpr std::string_view kMissingAuth = "Invalid or missing authentication";
inline constexpr std::string_view kBadJwt = "Invalid or expired JWT token";

struct JwtConfig {
    std::string_view hmac_secret;  // raw bytes; empty = no HMAC key configured
    std::string_view device_claim = "device_id";  // falls back to "sub"
    long leeway_seconds = 0;
};

struct AuthResult {
    std::string device_id;  // set on success
    Failure failure;        // 401 with kMissingAuth or kBadJwt
    std::string reason;     // why, for the debug log; a fixed text: never the token, the
                            // secret or a claim value
    bool token_presented = false;  // a credential was present (WWW-Authenticate error=)
};

// "Bearer <token>" (scheme case-insensitive, one or more spaces) or a bare "<token>".
// Returns the token (a view into `authorization`), or an empty view when the header is empty
// or malformed ("Bearer", "Bearer a b", "Basic abc").
std::string_view extract_credential(std::string_view authorization) noexcept;

// Verifies a compact JWS: HS256/HS384/HS512 only; "none" and everything else rejected;
// typ, when present, "JWT" (any case); a "crit" header rejected; at most 8192 bytes;
// exp/nbf/iat, when present, must be numbers; exp/nbf are honoured with leeway; an "aud" claim is
// rejected (no audience can be configured, RFC 7519 section 4.1.3); device id from
// device_claim, else "sub" (an absent or null claim falls back; a present but invalid one is
// refused). A token with exactly two dots fails with kBadJwt, anything else with kMissingAuth.
AuthResult verify_jwt(std::string_view token, const JwtConfig& config, std::time_t now) noexcept;

// The whole Authorization decision.
AuthResult authenticate(std::string_view authorization, const JwtConfig& config,
                        std::time_t now) noexcept;

// base64url without padding (RFC 7515 section 2). decode fails on padding, '+', '/', any
// other byte outside the alphabet, a bad length, and non-zero unused bits (so that one value
// has one encoding); `out` is cleared first.
bool base64url_decode(std::string_view in, std::string& out) noexcept;
// Returns "" only when memory is exhausted (or `in` is empty).
std::string base64url_encode(std::string_view in) noexcept;

}  // namespace wa_pair
