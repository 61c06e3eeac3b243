// Prometheus metrics (docs/metrics.md), the nginx side. A module of its own in this .so,
// ngx_http_wa_pair_metrics_module (ngx_wa_pair_metrics.cpp): the `wa_pair_metrics` directive,
// its configuration, the shared memory zone of the counters, the log phase that counts every
// request of a wa_pair location, and the scrape handler. The counters themselves, their
// updates and their reading are in ngx_wa_pair_metrics_shm.cpp; the exposition is the
// core's (metrics.hpp).
//
// The request flow calls the hooks below, once per event. Without a `wa_pair_metrics` location
// nothing is counted: each hook then costs one pointer test.
#pragma once

#include <string>
#include <string_view>

#include "nginx/ngx_wa_pair_nginx.hpp"
#include "metrics/metrics.hpp"

extern "C" ngx_module_t ngx_http_wa_pair_metrics_module;

namespace ngx_wa_pair {

// ---------------------------------------------------------------- hooks of the request flow

// authenticate() refused the request (401 at the edge).
void metrics_auth_failure(ngx_http_request_t *r, std::string_view authorization) noexcept;

// A backend call ended (nginx's upstream finalizes it, `rc` as it gives it): its result and
// its duration ($wa_pair_backend_time's).
void metrics_backend_call(ngx_http_request_t *r, ngx_int_t rc) noexcept;

// The edge policy refused the request.
void metrics_refused(ngx_http_request_t *r, wa_pair::metrics::Refusal refusal) noexcept;

// This worker's count of the requests waiting in the location's zone, or NULL.
ngx_atomic_t *metrics_waiting_cell(ngx_http_request_t *r) noexcept;

// ---------------------------------------------------------------- between the two metrics files

struct LocationCounters;  // in shared memory (ngx_wa_pair_metrics_shm.cpp)
struct ZoneCounters;

// A wa_pair location whose requests are counted: its registration, made when the
// configuration is merged, and its counters, found or made when the metrics zone is set up.
struct MetricsLocConf {
    ngx_flag_t scrape;           // `wa_pair_metrics;` here
    ngx_str_t name;              // a wa_pair location's name as written; len 0: not counted
    ngx_str_t zone;              // its wa_pair_zone_use's name; len 0: none
    ngx_msec_t timeout;          // its wa_pair_backend_timeout
    ngx_uint_t protocol;         // its wa_pair_backend_protocol
    LocationCounters *counters;  // NULL: not counted
    ngx_atomic_t *waiting;       // its zone's waiting cells (one per process slot), or NULL
};

struct MetricsZone {
    ngx_str_t name;
    ngx_shm_zone_t *shm_zone;  // the wa_pair_zone
    ZoneCounters *counters;    // NULL: not counted
};

struct MetricsMainConf {
    ngx_flag_t enabled;     // some location has `wa_pair_metrics;`
    ngx_array_t locations;  // of MetricsLocConf *, in the order of nginx.conf
    ngx_array_t zones;      // of MetricsZone
};

// The metrics zone: one for the whole nginx, of this size, so that every reload keeps it.
inline constexpr size_t kMetricsZoneSize = 1024 * 1024;

// The metrics zone's init (ngx_shm_zone_t's): finds or makes the counters of every registered
// location and zone by name.
ngx_int_t metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept;

// The pages of the metrics zone that counters may take, and the pages the counters of one
// location or zone of that name take (checked at nginx -t against the configuration).
ngx_uint_t metrics_zone_pages() noexcept;
ngx_uint_t metrics_slot_pages(bool zone, size_t name_len) noexcept;

// Counts a finished request of a counted location (the log phase).
void metrics_count_request(const MetricsLocConf *mlcf, ngx_uint_t status, wa_pair::Outcome outcome) noexcept;

// The exposition of every registered location and zone. Throws only std::bad_alloc.
std::string metrics_exposition(const MetricsMainConf *mmcf);

}  // namespace ngx_wa_pair
