// Keys from identity providers, the glue's part (docs/architecture.md, "Keys from identity
// providers"): wa_pair_jwt_jwks_url and wa_pair_jwt_issuer name key sources; one worker of the
// host fetches each (ngx_wa_pair_jwks_fetch.cpp) and leaves the JWK Set in a shared zone the
// module makes for itself, which a reload keeps; every worker parses what is there when it
// changes and verifies tokens with it (ngx_wa_pair_jwks_keys.cpp). The decisions (URLs,
// discovery, max-age, the JWK Set's rules) are the core's: src/jose/jwks.hpp.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "nginx/ngx_wa_pair_nginx.hpp"
#include "jose/jwk.hpp"

namespace wa_pair {
class JwtCache;
}

namespace ngx_wa_pair {

inline constexpr size_t kJwksMaxSources = 64;  // distinct URLs in one configuration
inline constexpr size_t kJwksMaxUrl = 2048;
inline constexpr time_t kJwksDefaultRefresh = 3600;
inline constexpr time_t kJwksKidRefreshEvery = 30;  // unknown kids: one refresh per URL per 30 s
inline constexpr time_t kJwksRetryFirst = 5;        // a failure before any key set: retry soon
inline constexpr time_t kJwksRetryAfterKeys = 60;   // a failure with keys in hand

// One source, shared by every location that names it.
struct JwksSource {
    std::string url;  // the JWKS URL, or the issuer (discovery)
    bool issuer = false;
    time_t refresh = 0;   // the shortest any directive gave for it
    ngx_uint_t slot = 0;  // its slot in the zone (init_zone)
};

struct JwksShared;

// The http level's settings and every source of the configuration (in the main conf).
struct JwksMain {
    std::vector<JwksSource> sources;
    ngx_flag_t redirect = NGX_CONF_UNSET;      // wa_pair_jwt_jwks_redirect
    std::string ca_file;                       // wa_pair_jwt_jwks_trusted_certificate
    ngx_msec_t timeout = NGX_CONF_UNSET_MSEC;  // wa_pair_jwt_jwks_timeout
    ngx_shm_zone_t *zone = nullptr;
    ngx_slab_pool_t *shpool = nullptr;
    JwksShared *sh = nullptr;
};

// A location's sources and, in each worker, the keys it verifies with.
struct JwksUse {
    std::vector<size_t> sources;               // indexes into JwksMain::sources
    std::shared_ptr<wa_pair::JwtCache> cache;  // the location's verified tokens: cleared when
                                               // its keys change
    // Per worker (written after fork):
    unsigned long long seen = 0;  // the worker's key version `keys` was built from
    std::shared_ptr<const wa_pair::KeySet> keys;
    time_t logged = 0;  // the last "no keys yet" error line
};

// One slot of the zone, per source URL; a reload finds its slot again by URL.
struct JwksSlot {
    ngx_atomic_t generation;  // bumped when the key set changes; 0: none yet
    u_char url[kJwksMaxUrl];
    size_t url_len;  // 0: a free slot
    ngx_uint_t issuer;
    u_char *doc;  // the JWK Set as fetched (slab), validated by the fetcher
    size_t doc_len;
    time_t fetched;             // when doc last arrived or was confirmed
    time_t next_fetch;          // when a fetch is due
    time_t claimed_until;       // a worker is fetching until then
    time_t kid_refresh_at;      // the earliest refresh an unknown kid may cause
    ngx_uint_t fetches;         // fetches started, for the log and the tests
    ngx_uint_t failures;        // in a row
    ngx_uint_t failures_total;  // since the zone was made (wa_pair_jwks_failures_total)
    u_char error[256];          // the last failure, NUL-terminated
};

struct JwksShared {
    JwksSlot slots[kJwksMaxSources];
};

// Whether `slot` is `s`'s: a worker of an older configuration may still hold an index whose
// slot a reload gave to another URL. Under the zone's lock.
inline bool jwks_slot_is(const JwksSlot &slot, const JwksSource &s) {
    return slot.url_len == s.url.size() && (slot.issuer != 0) == s.issuer &&
           ngx_memcmp(slot.url, s.url.data(), s.url.size()) == 0;
}

// ngx_wa_pair_jwks_conf.cpp
JwksMain *jwks_main(ngx_conf_t *cf);      // the main conf's, made on first use
JwksMain *jwks_main(ngx_cycle_t *cycle);  // null when nothing is configured
char *jwks_url_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *jwks_redirect_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *jwks_ca_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *jwks_timeout_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
// Adds a source (or finds it); its index, or -1 on failure (logged).
ngx_int_t jwks_add_source(ngx_conf_t *cf, ngx_str_t url, bool issuer, time_t refresh);
// postconfiguration: the shared zone, when there is a source.
ngx_int_t jwks_postconfiguration(ngx_conf_t *cf) noexcept;
// The source's text for the log: the URL without its query (which may carry a secret).
std::string jwks_log_url(const JwksSource &s);

// ngx_wa_pair_jwks_fetch.cpp (init_process, exit_process)
ngx_int_t jwks_worker_init(ngx_cycle_t *cycle) noexcept;
void jwks_worker_exit() noexcept;
void jwks_poll_soon() noexcept;  // an unknown kid asked for a refresh

// ngx_wa_pair_jwks_keys.cpp: the request's side
struct JwksKeys {
    const wa_pair::KeySet *keys = nullptr;  // null when no source has keys yet
};
JwksKeys jwks_keys(JwksUse *use) noexcept;
// A token named a kid no key has: one refresh per URL per 30 s.
void jwks_unknown_kid(const JwksUse *use) noexcept;
// 503 "Authentication keys are not available yet" with Retry-After; logs why (once a minute).
ngx_int_t jwks_unavailable(ngx_http_request_t *r, JwksUse *use);
void jwks_keys_exit() noexcept;  // exit_process

}  // namespace ngx_wa_pair
