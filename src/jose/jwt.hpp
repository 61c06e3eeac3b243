// JWT verification (docs/contract.md): a compact JWS, its algorithm and key, its claims.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/failure.hpp"
#include "jose/jwa.hpp"
#include "jose/jwk.hpp"

namespace wa_pair {

inline constexpr std::string_view kMissingAuth = "Invalid or missing authentication";
inline constexpr std::string_view kBadJwt = "Invalid or expired JWT token";

// One claim requirement of wa_pair_jwt_require. No values: the claim must be present (not
// null). Values: the claim must be a string equal to one of them; for "aud", the token's
// audience (a string or an array of strings) must name one of them.
struct ClaimRequirement {
    std::string claim;
    std::vector<std::string> values;
};

struct JwtConfig {
    KeySet keys;
    AlgSet algorithms;  // the allow-list; empty: every algorithm some key fits
    std::vector<ClaimRequirement> required;
    std::string device_claim = "device_id";  // falls back to "sub"
    long leeway_seconds = 0;
};

enum class AuthMethod : std::uint8_t { none, jwt, api_key };

// A verified token's exp, nbf and iat (NumericDates) and the leeway they were judged with:
// what must be judged again when a verification is reused at another time (jwt_cache.hpp).
struct TokenTimes {
    bool has_exp = false, has_nbf = false, has_iat = false;
    double exp = 0, nbf = 0, iat = 0;
    long leeway_seconds = 0;
};

// Why the token is refused at `now` (exp reached, nbf or iat later, each beyond the leeway),
// or nullptr.
const char *time_failure(const TokenTimes &times, std::time_t now) noexcept;

struct AuthResult {
    std::string device_id;  // set on success
    AuthMethod method = AuthMethod::none;
    std::string api_key_id;                // the token's api_key_id as text; "" when absent
    std::optional<std::uint64_t> version;  // the token's version, when present
    Failure failure;                       // 401 with kMissingAuth or kBadJwt
    std::string reason;                    // why, for the debug log; a fixed text: never the token, a secret
                                           // or a claim value
    bool token_presented = false;          // a credential was present (WWW-Authenticate error=)
    bool unknown_kid = false;              // a JWT whose kid no key has: keys may have rotated
    bool no_key = false;                   // no key could verify it (none of its kid, type or alg):
                                           // keys not fetched yet, or rotated
    TokenTimes times;                      // a verified JWT's time claims
};

// Verifies a compact JWS, failing closed:
//  - shape: exactly two dots (else kMissingAuth), at most 8192 bytes, a header of at most
//    2048; segments in strict base64url; header and payload JSON objects without repeated
//    member names;
//  - header: "alg" a JWA name in the allow-list ("none" never is); "typ", when present, JWT
//    or application/jwt (any case); "crit" refused (no extension is understood); "kid",
//    when present, a string;
//  - key: with a kid, only the keys of that kid; without, every key; in both cases only keys
//    of the type the algorithm needs, and whose own "alg" (if any) is this one; the
//    signature must verify with one of them;
//  - claims: exp, nbf, iat numbers when present; exp reached, nbf or iat later than now,
//    each beyond the leeway, refused; an "aud" must name a required audience (with no
//    audience required, a token naming one is refused: RFC 7519 section 4.1.3); every
//    requirement met; device id from device_claim, else "sub" (an absent or null claim falls
//    back, a present invalid one is refused); api_key_id, when present, an integer or 1..128
//    printable ASCII characters; version, when present, a non-negative integer.
// Every failure of a JWT-shaped token is kBadJwt.
// `fetched`: keys fetched from identity providers (wa_pair_jwt_jwks_url), used as the
// configuration's own; with no allow-list configured, what they fit is allowed too.
AuthResult verify_jwt(std::string_view token, const JwtConfig &config, std::time_t now,
                      const KeySet *fetched = nullptr) noexcept;

// Adds one argument of wa_pair_jwt_require ("exp", "iss=https://id.example") to `into`.
// Returns "" or why the argument is refused.
std::string add_requirement(std::string_view arg, std::vector<ClaimRequirement> &into);

// What a location requires: its parent's requirements, except that the requirement of each
// claim the location names itself replaces the parent's for that claim.
std::vector<ClaimRequirement> merge_requirements(const std::vector<ClaimRequirement> &parent,
                                                 const std::vector<ClaimRequirement> &child);

// Device ids, and the api_key_id forwarded to the backend: 1..128 bytes of 0x21..0x7e.
bool is_identifier(std::string_view s) noexcept;

}  // namespace wa_pair
