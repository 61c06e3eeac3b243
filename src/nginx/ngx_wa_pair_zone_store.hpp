// The pairing zone's store, as the zone's two files share it (ngx_wa_pair_zone_store.cpp
// keeps it, ngx_wa_pair_zone.cpp runs the request flow on it): docs/architecture.md §4.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

constexpr std::size_t kMaxText = 255;   // an engine's error text kept for a call's waiters
constexpr std::size_t kMaxIdLen = 255;  // the longest device id the zone keeps

struct ZoneShared;  // in shared memory: the tree, the queue, the phone key, counters

struct ZoneCtx {
    ngx_shm_zone_t *shm_zone;
    ngx_slab_pool_t *shpool;
    ZoneShared *sh;
};

struct Consulted {
    bool ok = false;  // false: the zone has no room for the entries a call needs
    bool warn = false;
    ngx_uint_t evicted = 0;
    std::int64_t retry_at = 0;  // !ok: when room may come back
    wa_pair::Decision decision;
};

// Decides on the entries the zone has (policy.hpp), creating them only for a request that
// proceeds.
Consulted consult(ZoneCtx *z, const ZoneRequest &zr, bool refresh, const wa_pair::PolicyConfig &config,
                  std::int64_t now) noexcept;

// What a waiter finds when it looks.
struct Polled {
    wa_pair::WaitState state = wa_pair::WaitState::gone;
    wa_pair::CallResult outcome{};
    char text[kMaxText + 1] = {};
};

void poll_zone(ZoneCtx *z, const ZoneRequest &zr, std::int64_t now, Polled &out) noexcept;

// Records a call's result for its device (and number); false when the device was evicted.
bool record(ZoneCtx *z, const ZoneRequest &zr, const wa_pair::CallResult &outcome, std::string_view text,
            std::int64_t now) noexcept;

void abandon_flight(ZoneCtx *z, const ZoneRequest &zr) noexcept;

// The zone's key for the numbers' HMACs (made at its first start, kept by reloads).
const wa_pair::ZoneKey &zone_phone_key(const ZoneCtx *z) noexcept;

ngx_int_t init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept;

}  // namespace ngx_wa_pair
