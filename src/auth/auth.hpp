// The Authorization header -> who is asking (docs/contract.md): a JWT (jwt.hpp) or an API
// key (api_keys.hpp), and the revocation of tokens by version (revocation.hpp).
#pragma once

#include <ctime>
#include <memory>
#include <string_view>

#include "auth/api_keys.hpp"
#include "jose/jwt.hpp"
#include "auth/jwt_cache.hpp"
#include "auth/revocation.hpp"

namespace wa_pair {

// Everything a location authenticates with, built at configuration time.
struct AuthConfig {
    JwtConfig jwt;
    std::shared_ptr<const ApiKeys> api_keys;         // null: no wa_pair_api_keys_file
    std::shared_ptr<const Revocations> revocations;  // null: no wa_pair_jwt_revocation_file
    // Verified tokens of this configuration, reused (null: every token is verified). Never
    // shared by two configurations: a result holds only for the config that produced it.
    std::shared_ptr<JwtCache> jwt_cache;
};

// "Bearer <token>" (scheme case-insensitive, one or more blanks) or a bare "<token>".
// Returns the token (a view into `authorization`), or an empty view when the header is empty
// or malformed ("Bearer", "Bearer a b", "Basic abc").
std::string_view extract_credential(std::string_view authorization) noexcept;

// "jwt", "api_key"; "" for none ($wa_pair_auth).
std::string_view auth_method_name(AuthMethod method) noexcept;

// The whole decision. A credential with exactly two dots is a JWT (verify_jwt, then the
// revocation list); any other one is an API key when an API key file is configured, else
// refused. Failures: no, empty or malformed header, an unknown API key, a non-JWT without API
// keys: kMissingAuth; a JWT failing anything, revoked included: kBadJwt.
// `fetched`: the keys fetched from identity providers for this location, if any (verify_jwt).
AuthResult authenticate(std::string_view authorization, const AuthConfig &config, std::time_t now,
                        const KeySet *fetched = nullptr) noexcept;

// authenticate() for a caller that reads the result at once: a kept verification (JwtCache)
// is returned in place, valid until the cache's next store, not copied; any other result is
// written to `result` (default-constructed by the caller) and that is returned.
const AuthResult &authenticate_into(std::string_view authorization, const AuthConfig &config, std::time_t now,
                                    AuthResult &result, const KeySet *fetched = nullptr) noexcept;

}  // namespace wa_pair
