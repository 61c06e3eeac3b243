// The metrics' counters in shared memory (docs/metrics.md): one zone for the whole nginx, made by
// the module for itself (as stub_status keeps its counters), of a fixed size so that every
// reload reuses it. In it, one slot of counters per location name and one per wa_pair_zone
// name, found by name when a configuration is loaded: a reload keeps the counts of every
// location and zone that keeps its name, new names get new slots, and the slots of names a
// reload removed stay (their counts come back if the name does) until nginx restarts.
//
// Every update is one ngx_atomic_fetch_add; nothing is locked on the request path. A scrape
// reads the counters as they are (each 64-bit read is whole; the histogram's +Inf and _count
// are summed from its buckets, so they agree).

#include <algorithm>
#include <vector>

#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"

namespace ngx_wa_pair {

namespace metrics = wa_pair::metrics;

// A location's (status, outcome) pairs: a small open-addressed table, claimed with a
// compare-and-set; a pair past its capacity is counted by outcome alone ("other" status).
constexpr size_t kRequestCells = 64;

struct LocationCounters {
    ngx_atomic_t keys[kRequestCells];  // (status << 8) | (outcome + 1); 0: free
    ngx_atomic_t requests[kRequestCells];
    ngx_atomic_t other_status[wa_pair::kOutcomeCount];
    ngx_atomic_t auth_failures[metrics::kAuthFailureCount];
    ngx_atomic_t limited[metrics::kRefusalCount];
    ngx_atomic_t calls[metrics::kProtocolCount][wa_pair::kOutcomeCount];
    ngx_atomic_t durations[metrics::kBuckets];
    ngx_atomic_t duration_sum_ms;
};

struct ZoneCounters {
    // Requests waiting for another request's call, one cell per nginx process slot: a worker
    // only ever changes its own, and a new worker zeroes its slot's (whoever had it is gone),
    // so that a worker that died with waiters leaves no count behind.
    ngx_atomic_t waiting[NGX_MAX_PROCESSES];
};

namespace {

enum SlotKind : ngx_uint_t { kLocationSlot = 1, kZoneSlot = 2 };

struct Slot {
    Slot *next;
    ngx_uint_t kind;
    size_t name_len;
    u_char *name;  // after the counters, in the same allocation
};

struct LocationSlot {
    Slot slot;
    LocationCounters counters;
};

struct ZoneSlot {
    Slot slot;
    ZoneCounters counters;
};

struct MetricsShared {
    Slot *first;
};

Slot *find_or_make(ngx_slab_pool_t *shpool, MetricsShared *sh, ngx_uint_t kind, const ngx_str_t &name) {
    for (Slot *s = sh->first; s != nullptr; s = s->next) {
        if (s->kind == kind && s->name_len == name.len && ngx_memcmp(s->name, name.data, name.len) == 0) {
            return s;
        }
    }
    const size_t head = kind == kLocationSlot ? sizeof(LocationSlot) : sizeof(ZoneSlot);
    auto *s = static_cast<Slot *>(ngx_slab_calloc(shpool, head + name.len));
    if (s == nullptr) {
        return nullptr;
    }
    s->kind = kind;
    s->name_len = name.len;
    s->name = reinterpret_cast<u_char *>(s) + head;
    ngx_memcpy(s->name, name.data, name.len);
    s->next = sh->first;  // only the master adds slots, while loading a configuration
    sh->first = s;
    return s;
}

void add(ngx_atomic_t *counter, ngx_atomic_int_t n) {
    ngx_atomic_fetch_add(counter, n);
}

}  // namespace

// ---------------------------------------------------------------- setup (the master)

ngx_uint_t metrics_zone_pages() noexcept {
    // ngx_slab_init's pages (each has a descriptor), less one for MetricsShared's small slab.
    const ngx_uint_t pages = kMetricsZoneSize / (ngx_pagesize + sizeof(ngx_slab_page_t));
    return pages > 2 ? pages - 2 : 0;
}

ngx_uint_t metrics_slot_pages(bool zone, size_t name_len) noexcept {
    // A slab allocation above half a page takes whole pages.
    const size_t bytes = (zone ? sizeof(ZoneSlot) : sizeof(LocationSlot)) + name_len;
    return (bytes + ngx_pagesize - 1) / ngx_pagesize;
}

ngx_int_t metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept {
    auto *mmcf = static_cast<MetricsMainConf *>(shm_zone->data);
    auto *shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);
    MetricsShared *sh;
    if (data != nullptr || shm_zone->shm.exists) {  // a reload: the counts go on
        sh = static_cast<MetricsShared *>(shpool->data);
    } else {
        sh = static_cast<MetricsShared *>(ngx_slab_calloc(shpool, sizeof(MetricsShared)));
        if (sh == nullptr) {
            return NGX_ERROR;
        }
        shpool->data = sh;
        shpool->log_nomem = 0;  // a full zone is reported below, naming what is not counted
    }

    auto *zones = static_cast<MetricsZone *>(mmcf->zones.elts);
    for (ngx_uint_t i = 0; i < mmcf->zones.nelts; i++) {
        Slot *s = find_or_make(shpool, sh, kZoneSlot, zones[i].name);
        zones[i].counters = s != nullptr ? &reinterpret_cast<ZoneSlot *>(s)->counters : nullptr;
        if (s == nullptr) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "wa_pair_metrics: no room for zone \"%V\" (the metrics keep every name "
                          "seen since nginx started): its waiters are not counted until a restart",
                          &zones[i].name);
        }
    }
    auto **locations = static_cast<MetricsLocConf **>(mmcf->locations.elts);
    for (ngx_uint_t i = 0; i < mmcf->locations.nelts; i++) {
        MetricsLocConf *m = locations[i];
        Slot *s = find_or_make(shpool, sh, kLocationSlot, m->name);
        m->counters = s != nullptr ? &reinterpret_cast<LocationSlot *>(s)->counters : nullptr;
        if (s == nullptr) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "wa_pair_metrics: no room for location \"%V\" (the metrics keep every name "
                          "seen since nginx started): its requests are not counted until a restart",
                          &m->name);
        }
        m->waiting = nullptr;
        for (ngx_uint_t z = 0; m->zone.len != 0 && z < mmcf->zones.nelts; z++) {
            if (zones[z].counters != nullptr && zones[z].name.len == m->zone.len &&
                ngx_memcmp(zones[z].name.data, m->zone.data, m->zone.len) == 0) {
                m->waiting = zones[z].counters->waiting;
            }
        }
    }
    return NGX_OK;
}

// ---------------------------------------------------------------- counting (the workers)

void metrics_count_request(const MetricsLocConf *mlcf, ngx_uint_t status, wa_pair::Outcome outcome) noexcept {
    LocationCounters *c = mlcf->counters;
    const auto o = static_cast<ngx_atomic_uint_t>(outcome);
    if (c == nullptr || o >= wa_pair::kOutcomeCount) {
        return;
    }
    const ngx_atomic_uint_t key = (static_cast<ngx_atomic_uint_t>(status & 0xffff) << 8) | (o + 1);
    size_t i = (status * 31 + o) % kRequestCells;
    for (size_t probes = 0; probes < kRequestCells; probes++, i = (i + 1) % kRequestCells) {
        ngx_atomic_uint_t k = c->keys[i];
        if (k == 0 && ngx_atomic_cmp_set(&c->keys[i], 0, key)) {
            k = key;
        }
        if (k == 0) {
            k = c->keys[i];  // another worker claimed it meanwhile
        }
        if (k == key) {
            add(&c->requests[i], 1);
            return;
        }
    }
    add(&c->other_status[o], 1);
}

void metrics_auth_failure(ngx_http_request_t *r, std::string_view authorization) noexcept {
    auto *m = static_cast<MetricsLocConf *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_metrics_module));
    if (m->counters != nullptr) {
        add(&m->counters->auth_failures[static_cast<size_t>(metrics::classify_auth_failure(authorization))], 1);
    }
}

void metrics_refused(ngx_http_request_t *r, metrics::Refusal refusal) noexcept {
    auto *m = static_cast<MetricsLocConf *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_metrics_module));
    if (m->counters != nullptr && static_cast<size_t>(refusal) < metrics::kRefusalCount) {
        add(&m->counters->limited[static_cast<size_t>(refusal)], 1);
    }
}

void metrics_backend_call(ngx_http_request_t *r, ngx_int_t rc) noexcept {
    auto *m = static_cast<MetricsLocConf *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_metrics_module));
    RequestCtx *ctx = get_ctx(r);
    if (m->counters == nullptr || ctx == nullptr || !ctx->call) {
        return;
    }
    // The answer's outcome (set when the envelope was made), else the failure nginx's upstream
    // ended the call with, else what its status says (a client that left: client_closed).
    const BackendCall &call = *ctx->call;
    wa_pair::Outcome result = ctx->outcome;
    if (result == wa_pair::Outcome::none && call.failure) {
        result = call.failure->outcome;
    }
    if (result == wa_pair::Outcome::none) {
        result = rc >= NGX_HTTP_BAD_REQUEST ? wa_pair::outcome_for_status(static_cast<int>(rc))
                                            : wa_pair::Outcome::internal_error;
    }
    const auto protocol = std::min<size_t>(m->protocol, metrics::kProtocolCount - 1);
    add(&m->counters->calls[protocol][static_cast<size_t>(result)], 1);
    const ngx_msec_int_t ms = std::max<ngx_msec_int_t>(static_cast<ngx_msec_int_t>(call.end - call.start), 0);
    add(&m->counters->durations[metrics::bucket_of(ms)], 1);
    add(&m->counters->duration_sum_ms, ms);
}

ngx_atomic_t *metrics_waiting_cell(ngx_http_request_t *r) noexcept {
    auto *m = static_cast<MetricsLocConf *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_metrics_module));
    if (m->waiting == nullptr || ngx_process_slot < 0 || ngx_process_slot >= NGX_MAX_PROCESSES) {
        return nullptr;
    }
    return const_cast<ngx_atomic_t *>(m->waiting + ngx_process_slot);
}

// ---------------------------------------------------------------- reading (a scrape)

namespace {

void read_location(const LocationCounters &c, metrics::LocationSnapshot &out) {
    for (size_t i = 0; i < kRequestCells; i++) {
        const ngx_atomic_uint_t key = c.keys[i];
        const ngx_atomic_uint_t n = c.requests[i];
        if (key != 0 && n != 0) {
            out.requests.push_back({static_cast<int>(key >> 8), static_cast<wa_pair::Outcome>((key & 0xff) - 1), n});
        }
    }
    for (size_t o = 0; o < wa_pair::kOutcomeCount; o++) {
        if (c.other_status[o] != 0) {
            out.requests.push_back({metrics::kOtherStatus, static_cast<wa_pair::Outcome>(o), c.other_status[o]});
        }
    }
    std::copy(std::begin(c.auth_failures), std::end(c.auth_failures), out.auth_failures.begin());
    std::copy(std::begin(c.limited), std::end(c.limited), out.limited.begin());
    for (size_t p = 0; p < metrics::kProtocolCount; p++) {
        std::copy(std::begin(c.calls[p]), std::end(c.calls[p]), out.calls[p].begin());
    }
    std::copy(std::begin(c.durations), std::end(c.durations), out.durations.begin());
    out.duration_sum_ms = c.duration_sum_ms;
}

std::uint64_t sum_waiting(const ZoneCounters &c) {
    ngx_atomic_int_t total = 0;
    for (ngx_uint_t i = 0; i < NGX_MAX_PROCESSES; i++) {
        total += static_cast<ngx_atomic_int_t>(c.waiting[i]);
    }
    return total > 0 ? static_cast<std::uint64_t>(total) : 0;
}

// The key sources of wa_pair_jwt_jwks_url and wa_pair_jwt_issuer, read under the key zone's lock.
std::vector<metrics::JwksSnapshot> jwks_snapshots() {
    std::vector<metrics::JwksSnapshot> out;
    JwksMain *jm = jwks_main(const_cast<ngx_cycle_t *>(ngx_cycle));
    if (jm == nullptr || jm->sh == nullptr) {
        return out;
    }
    for (const JwksSource &s : jm->sources) {
        out.push_back({jwks_log_url(s), 0, 0});
    }
    ngx_shmtx_lock(&jm->shpool->mutex);
    for (size_t i = 0; i < jm->sources.size(); i++) {
        for (const JwksSlot &slot : jm->sh->slots) {
            if (jwks_slot_is(slot, jm->sources[i])) {
                out[i].last_success = slot.fetched > 0 ? static_cast<std::uint64_t>(slot.fetched) : 0;
                out[i].failures = slot.failures_total;
                break;
            }
        }
    }
    ngx_shmtx_unlock(&jm->shpool->mutex);
    return out;
}

}  // namespace

std::string metrics_exposition(const MetricsMainConf *mmcf) {
    // Locations of one name (in several servers) share their counters: one set of series.
    std::vector<metrics::LocationSnapshot> locations;
    std::vector<const LocationCounters *> seen;
    auto **regs = static_cast<MetricsLocConf **>(mmcf->locations.elts);
    for (ngx_uint_t i = 0; i < mmcf->locations.nelts; i++) {
        const MetricsLocConf *m = regs[i];
        if (m->counters == nullptr) {
            continue;
        }
        const auto at = std::find(seen.begin(), seen.end(), m->counters);
        if (at != seen.end()) {
            metrics::LocationSnapshot &same = locations[static_cast<size_t>(at - seen.begin())];
            same.timeout_ms = std::max<std::int64_t>(same.timeout_ms, m->timeout);
            same.has_zone = same.has_zone || m->zone.len != 0;
            continue;
        }
        seen.push_back(m->counters);
        metrics::LocationSnapshot &loc = locations.emplace_back();
        loc.name = view(m->name);
        loc.has_zone = m->zone.len != 0;
        loc.timeout_ms = static_cast<std::int64_t>(m->timeout);
        read_location(*m->counters, loc);
    }

    std::vector<metrics::ZoneSnapshot> zones;
    auto *zs = static_cast<MetricsZone *>(mmcf->zones.elts);
    for (ngx_uint_t i = 0; i < mmcf->zones.nelts; i++) {
        ZoneStats stats;
        if (!zone_stats(zs[i].shm_zone, stats)) {
            continue;
        }
        metrics::ZoneSnapshot &z = zones.emplace_back();
        z.name = view(zs[i].name);
        z.devices = stats.devices;
        z.numbers = stats.numbers;
        z.bytes_used = stats.bytes_used;
        z.bytes_size = stats.bytes_size;
        z.calls_in_flight = stats.calls_in_flight;
        z.evictions = stats.evictions;
        z.waiters = zs[i].counters != nullptr ? sum_waiting(*zs[i].counters) : 0;
    }
    return metrics::render(locations, zones, jwks_snapshots());
}

}  // namespace ngx_wa_pair
