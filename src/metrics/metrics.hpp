// Prometheus metrics of wa_pair locations and zones (docs/metrics.md): the labels' values, the
// histogram's buckets, and the text exposition format (version 0.0.4) of a snapshot. Pure:
// the nginx side (ngx_wa_pair_metrics*.cpp) keeps the counters in shared memory, reads them
// into these plain values and sends what render() writes.
//
// Every label value is one of a fixed set (status, outcome, method, protocol, result, limit)
// or a name from nginx.conf (location, zone): never a device id, a phone number or a token.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/outcome.hpp"
#include "edge/policy.hpp"
#include "backend/protocol.hpp"

namespace wa_pair::metrics {

// ---------------------------------------------------------------- wa_pair_backend_duration_seconds

// The upper bounds of the buckets, in milliseconds: 1, 2.5, 5 per decade from 5 ms to 1000 s.
// A location shows the bounds up to the first one that covers its wa_pair_backend_timeout
// (exposed_bounds), then +Inf; the counts are kept for every bound, so that a reload that
// changes the timeout changes only which bounds are shown.
inline constexpr std::array<std::int64_t, 17> kBoundsMs = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};
inline constexpr std::size_t kBuckets = kBoundsMs.size() + 1;  // the last: above every bound

// The bucket of a duration: the first bound at or above it, kBoundsMs.size() above them all.
std::size_t bucket_of(std::int64_t ms) noexcept;

// How many bounds a location with this backend timeout shows: up to the first bound at or
// above the timeout (all of them for a timeout above the last).
std::size_t exposed_bounds(std::int64_t timeout_ms) noexcept;

// ---------------------------------------------------------------- label values

// How a request's credential failed, as far as telling it helps nobody: a JWT (any failure of
// its verification, revocation included), another credential (an API key unknown, or any
// non-JWT where no API keys are configured), or none (no or malformed Authorization header).
enum class AuthFailure : std::uint8_t { jwt, api_key, missing };
inline constexpr std::size_t kAuthFailureCount = 3;

// The same reading of the Authorization header as authenticate() (auth.hpp).
AuthFailure classify_auth_failure(std::string_view authorization) noexcept;
std::string_view auth_failure_name(AuthFailure failure) noexcept;

// Why the edge policy refused a request: a limit of the core (policy.hpp's Limit), another call
// for the device in flight (409), or a zone full of entries the policy still needs (503).
enum class Refusal : std::uint8_t {
    cooldown,
    per_device,
    per_phone,
    interval,
    numbers,
    in_progress,
    zone_full,
};
inline constexpr std::size_t kRefusalCount = 7;

// policy.hpp's limit as a refusal; Limit::none is not a refusal (none).
std::optional<Refusal> refusal_of(Limit limit) noexcept;
std::string_view refusal_name(Refusal refusal) noexcept;

inline constexpr std::size_t kProtocolCount = static_cast<std::size_t>(Protocol::evolution) + 1;

// ---------------------------------------------------------------- a snapshot

// The status of requests counted by outcome alone (status="other"): the nginx side keeps a
// small table of (status, outcome) pairs per location, and counts a pair past it so.
inline constexpr int kOtherStatus = -1;

struct RequestCount {
    int status = 0;  // or kOtherStatus
    Outcome outcome = Outcome::none;
    std::uint64_t count = 0;
};

// One location's counters (locations of one name, in several servers say, share them).
struct LocationSnapshot {
    std::string_view name;               // as written in nginx.conf
    bool has_zone = false;               // wa_pair_zone_use: every refusal is shown, 0 or not
    std::int64_t timeout_ms = 0;         // wa_pair_backend_timeout: which bounds are shown
    std::vector<RequestCount> requests;  // those counted, in any order
    std::array<std::uint64_t, kAuthFailureCount> auth_failures{};
    std::array<std::uint64_t, kRefusalCount> limited{};
    // by the protocol the call spoke and how it ended
    std::array<std::array<std::uint64_t, kOutcomeCount>, kProtocolCount> calls{};
    std::array<std::uint64_t, kBuckets> durations{};  // calls per bucket (not cumulative)
    std::uint64_t duration_sum_ms = 0;
};

struct ZoneSnapshot {
    std::string_view name;
    std::uint64_t devices = 0;
    std::uint64_t numbers = 0;
    std::uint64_t bytes_used = 0;
    std::uint64_t bytes_size = 0;
    std::uint64_t calls_in_flight = 0;
    std::uint64_t waiters = 0;
    std::uint64_t evictions = 0;
};

// A key source of wa_pair_jwt_jwks_url or wa_pair_jwt_issuer, by its URL as the error log
// names it (without its query).
struct JwksSnapshot {
    std::string url;
    std::uint64_t last_success = 0;  // Unix time of the last good answer; 0: none yet
    std::uint64_t failures = 0;      // failed fetches since the key zone was made
};

// ---------------------------------------------------------------- the exposition

// Every family once, its HELP and TYPE lines, then its samples: counters and gauges of every
// location and zone. The histogram's +Inf bucket and _count are the sum of its buckets, so
// they agree even while workers count. Throws only std::bad_alloc.
std::string render(const std::vector<LocationSnapshot> &locations, const std::vector<ZoneSnapshot> &zones,
                   const std::vector<JwksSnapshot> &jwks = {});

// A label value as the text format quotes it: \ " and line feed escaped.
void append_label_value(std::string &out, std::string_view value);

// Milliseconds as seconds, without trailing zeros: 5 -> "0.005", 2500 -> "2.5", 0 -> "0".
void append_seconds(std::string &out, std::uint64_t ms);

}  // namespace wa_pair::metrics
