// The edge policy's nginx side (docs/edge-policy.md): the shared zone every worker consults, its
// directives, a request's part in it and $wa_pair_cache. The decisions are the core's
// (policy.hpp); the handler calls the three zone_* hooks of the request flow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nginx/ngx_wa_pair_nginx.hpp"
#include "edge/policy.hpp"
#include "backend/protocol.hpp"
#include "backend/session.hpp"

namespace ngx_wa_pair {

struct RequestCtx;
struct ZoneCtx;  // one per wa_pair_zone: its shared memory

// Part of wa_pair_loc_conf_t: a plain struct, filled by offsetof.
struct ZoneLocConf {
    ngx_shm_zone_t *shm_zone;  // wa_pair_zone_use; NULL: none ("off")
    ngx_flag_t reuse;          // wa_pair_reuse
    ngx_msec_t reuse_margin;   // wa_pair_reuse_margin
    ngx_flag_t limits_set;     // wa_pair_limit given at this level
    wa_pair::Limits limits;
};

enum class CacheStatus : std::uint8_t { none, miss, hit, coalesced };

// A request's part in the zone. A member of RequestCtx: it dies with the request's pool.
struct ZoneRequest {
    ZoneCtx *zone = nullptr;
    CacheStatus cache = CacheStatus::none;  // $wa_pair_cache
    bool caller = false;                    // its backend call is the device's call in flight, unrecorded
    bool waiting = false;                   // waits for another request's call
    std::uint64_t flight = 0;               // the call made or waited for
    std::int64_t deadline = 0;              // a waiter's: then 504
    wa_pair::PhoneHash phone{};
    std::string device_id;
    ngx_event_t poll{};  // a waiter's timer: it looks at the zone every 25 ms
    ngx_log_t *log = nullptr;
    ngx_atomic_t *waiting_cell = nullptr;  // this worker's count of the zone's waiters (metrics)

    ZoneRequest() = default;
    ZoneRequest(const ZoneRequest &) = delete;
    ZoneRequest &operator=(const ZoneRequest &) = delete;
    // Deletes the timer of a waiter whose client left; a caller whose call was never recorded
    // gives it up, so that its waiters decide again instead of waiting for nothing.
    ~ZoneRequest();

    // `waiting` with the metrics' count of waiters kept in step (`cell` may be NULL).
    void start_waiting(ngx_atomic_t *cell) noexcept;
    void stop_waiting() noexcept;
};

// ---- configuration (ngx_wa_pair_module.cpp's table and conf lifecycle)
extern ngx_conf_post_t zone_reuse_margin_post;
char *zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *zone_use_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *limit_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
void zone_create_loc_conf(ZoneLocConf *conf) noexcept;
char *zone_merge_loc_conf(ngx_conf_t *cf, ZoneLocConf *prev, ZoneLocConf *conf, bool wa_pair_location) noexcept;
// "miss", "hit", "coalesced" ($wa_pair_cache); "" for none.
std::string_view cache_status_name(CacheStatus s) noexcept;

// ---- the request flow (ngx_wa_pair_handler.cpp)

// After the body is parsed (phone known), before the backend call. true: the zone took the
// request over (answered a reused code, 409 or 429, or made it wait for the same call in
// flight); false: call the backend (as the device's call when the location has a zone).
bool zone_before_backend(ngx_http_request_t *r, RequestCtx *ctx, bool refresh) noexcept;

// The backend answered (before the answer is sent): records it for the waiters, for reuse,
// and a 429 as a cool-down.
void zone_after_backend(RequestCtx *ctx, const wa_pair::PairCode &pc) noexcept;

// ---- the metrics (ngx_wa_pair_metrics*.cpp)

struct ZoneStats {
    std::uint64_t devices = 0;
    std::uint64_t numbers = 0;
    std::uint64_t calls_in_flight = 0;  // calls not past their deadline, made in any worker
    std::uint64_t bytes_used = 0;       // the zone's size less its free pages
    std::uint64_t bytes_size = 0;
    std::uint64_t evictions = 0;  // entries freed to make room, since the zone was made
};

// A wa_pair_zone's figures, read under its lock in one walk of its entries. false: not one of
// the module's zones, or not initialised.
bool zone_stats(ngx_shm_zone_t *shm_zone, ZoneStats &out) noexcept;
// ---- pairing completion (ngx_wa_pair_events.cpp, ngx_wa_pair_status.cpp)

// A zone declared by wa_pair_zone (not merely named).
bool is_policy_zone(ngx_shm_zone_t *shm_zone) noexcept;

enum class EventOutcome { changed, unchanged, stale, unknown_device };

// Applies an engine's event to the device's entry, if the zone holds one (it never creates one).
EventOutcome zone_apply_event(ngx_shm_zone_t *shm_zone, std::string_view device_id, const wa_pair::EventChange &change,
                              std::int64_t now) noexcept;

// The device's pairing as the zone knows it (none when it holds no entry).
wa_pair::PairingStatus zone_pairing_status(ngx_shm_zone_t *shm_zone, std::string_view device_id,
                                           std::int64_t now) noexcept;

// Changes with every change a status may show; read without the zone's lock.
ngx_atomic_uint_t zone_generation(ngx_shm_zone_t *shm_zone) noexcept;

// wa_pair_session_start: may the caller's device's session be started now, at most once per
// `window_ms` for every worker (session.hpp, claim_start)? nullopt when the request has no
// entry in a zone to keep the start in (the caller keeps it itself).
std::optional<wa_pair::StartClaim> zone_claim_session_start(RequestCtx *ctx, std::int64_t now,
                                                            std::int64_t window_ms) noexcept;

// Evolution: the connection the caller's device's zone entry knows (session.hpp,
// EvolutionConnection); nullopt when the request has no entry in a zone (the caller asks its
// worker's log). Remembering it is false in that case too.
std::optional<wa_pair::EvolutionConnection> zone_evolution_connection(RequestCtx *ctx, std::int64_t now) noexcept;
bool zone_remember_evolution_connection(RequestCtx *ctx, const wa_pair::EvolutionConnection &connection,
                                        std::int64_t now) noexcept;

}  // namespace ngx_wa_pair
