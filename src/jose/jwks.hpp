// Keys from identity providers (wa_pair_jwt_jwks_url, wa_pair_jwt_issuer): the URLs that may
// be fetched, OpenID Connect discovery, how long an answer stays fresh, and the JWK Set an
// answer must be. The fetching itself is the glue's (src/nginx/ngx_wa_pair_jwks_*.cpp); this is the
// part that decides, pure and unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jose/jwk.hpp"

namespace wa_pair {

// A URL keys may be fetched from: https://host[:port]/path, or http:// to a loopback address
// (127.0.0.0/8, [::1], localhost) only: keys must not travel in clear across a network.
// No user information, no fragment, no spaces or control bytes.
struct FetchUrl {
    std::string host;  // lower case, without brackets or port: for the redirect check
    bool tls = false;
    std::string error;  // "" when the URL may be fetched
};
FetchUrl check_fetch_url(std::string_view url) noexcept;

// Where an issuer publishes its OpenID Connect configuration: the issuer (without a trailing
// '/') and "/.well-known/openid-configuration". Throws only std::bad_alloc.
std::string discovery_url(std::string_view issuer);

// An OpenID Connect discovery document: its "issuer" must be `issuer` exactly (OpenID
// Connect Discovery 1.0, 4.3), its "jwks_uri" a URL check_fetch_url() accepts.
struct Discovery {
    std::string jwks_uri;
    std::string error;  // "" on success: why the document is refused, in our words
};
Discovery parse_discovery(std::string_view json, std::string_view issuer) noexcept;

// The first max-age directive of a Cache-Control value, in seconds; nullopt when there is
// none or it is not delta-seconds. "no-store"/"no-cache" do not shorten a key set's life:
// keys are refreshed on the operator's schedule, only sooner when max-age says so.
std::optional<long> cache_max_age(std::string_view cache_control) noexcept;

// Seconds until the next refresh: `refresh`, or sooner when max-age says so, max-age bounded
// to 1 minute .. 1 day.
long refresh_after(long refresh_seconds, std::optional<long> max_age) noexcept;

// What a JWKS URL must answer: a JWK Set ({"keys":[...]}), read by parse_key_file() with the
// same rules as wa_pair_jwt_key_file (algorithms, kid, private members refused ...). A PEM
// file or a lone JWK is refused, and symmetric (oct) keys are skipped with a warning: a key set
// at a URL is public, and so would be the secret.
KeyFile parse_fetched_jwks(std::string_view body) noexcept;

// The 503's text while a location has key sources and none has answered yet.
inline constexpr std::string_view kKeysNotAvailable = "Authentication keys are not available yet";

// The most a JWKS or discovery answer may weigh.
inline constexpr std::size_t kMaxFetchedBytes = 1024 * 1024;

}  // namespace wa_pair
