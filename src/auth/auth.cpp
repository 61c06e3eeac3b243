// Authorization header -> device id, method and forwarded claims. Fails closed: the failure
// is set first and cleared only on success.
#include "auth/auth.hpp"
#include "common/ascii.hpp"

#include <algorithm>

namespace wa_pair {

namespace {

using ascii::iequals;
using ascii::lower;

std::string_view trim(std::string_view s) noexcept {
    return ascii::trim_blank(s);
}

// Makes a default-constructed `result` a 401.
const AuthResult &fail_into(AuthResult &result, std::string_view error, const char *reason, bool presented) noexcept {
    result.token_presented = presented;
    try {
        result.failure.code = 401;
        result.failure.error.assign(error);
        result.reason = reason;
    } catch (...) {
        result.failure.code = 401;  // the glue sends the 401 envelope with an empty text
    }
    return result;
}

AuthResult failure(std::string_view error, const char *reason, bool presented) noexcept {
    AuthResult result;
    fail_into(result, error, reason, presented);
    return result;
}

AuthResult api_key(std::string_view key, const ApiKeys &keys) noexcept {
    const std::string *device = keys.find(key);
    if (device == nullptr) return failure(kMissingAuth, "unknown API key", true);
    AuthResult result;
    result.token_presented = true;
    try {
        result.device_id = *device;
        result.method = AuthMethod::api_key;
    } catch (...) {
        return failure(kMissingAuth, "internal error", true);
    }
    return result;
}

}  // namespace

std::string_view extract_credential(std::string_view authorization) noexcept {
    const std::string_view value = trim(authorization);
    if (value.empty()) return {};

    const std::size_t space = std::min(ascii::find_blank(value), value.size());
    const std::string_view first = value.substr(0, space);
    if (space == value.size()) {
        // One word: the doc's bare "Authorization: <token>", unless it is a lone scheme.
        return iequals(first, "Bearer") ? std::string_view() : first;
    }
    if (!iequals(first, "Bearer")) return {};  // "Basic abc", "Digest ..."
    const std::string_view token = trim(value.substr(space));
    if (ascii::find_blank(token) != std::string_view::npos) return {};  // "Bearer a b"
    return token;
}

std::string_view auth_method_name(AuthMethod method) noexcept {
    switch (method) {
    case AuthMethod::jwt:
        return "jwt";
    case AuthMethod::api_key:
        return "api_key";
    case AuthMethod::none:
        break;
    }
    return {};
}

const AuthResult &authenticate_into(std::string_view authorization, const AuthConfig &config, std::time_t now,
                                    AuthResult &result, const KeySet *fetched) noexcept {
    if (trim(authorization).empty()) {
        return fail_into(result, kMissingAuth, "no Authorization header", false);
    }
    const std::string_view token = extract_credential(authorization);
    if (token.empty()) return fail_into(result, kMissingAuth, "malformed Authorization header", true);

    const bool jwt_shaped = ascii::count_upto(token, '.', 3) == 2;
    if (!jwt_shaped) {
        if (config.api_keys) return result = api_key(token, *config.api_keys);
        return fail_into(result, kMissingAuth, "not a JWT (needs exactly two dots) and no API keys", true);
    }
    const AuthResult *verified = config.jwt_cache ? config.jwt_cache->find(token, now) : nullptr;
    if (verified == nullptr) {
        result = verify_jwt(token, config.jwt, now, fetched);
        if (config.jwt_cache) config.jwt_cache->store(token, result);
        verified = &result;
    }
    if (verified->failure || !config.revocations) return *verified;
    bool allowed = false;
    try {
        allowed = config.revocations->allows(verified->device_id, verified->version);
    } catch (...) {
        allowed = false;
    }
    if (!allowed) {
        const char *why =
            verified->version ? "token version revoked" : "device listed for revocation, token has no version";
        return result = failure(kBadJwt, why, true);
    }
    return *verified;
}

AuthResult authenticate(std::string_view authorization, const AuthConfig &config, std::time_t now,
                        const KeySet *fetched) noexcept {
    AuthResult result;
    const AuthResult &decided = authenticate_into(authorization, config, now, result, fetched);
    if (&decided == &result) return result;
    try {
        return decided;  // the cache's entry
    } catch (...) {
        return failure(kBadJwt, "internal error", true);
    }
}

}  // namespace wa_pair
