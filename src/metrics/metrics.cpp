// The metrics' labels, buckets and text exposition (metrics.hpp).
#include "metrics/metrics.hpp"

#include <algorithm>
#include <tuple>

#include "common/ascii.hpp"
#include "auth/auth.hpp"

namespace wa_pair::metrics {

// ---------------------------------------------------------------- buckets

std::size_t bucket_of(std::int64_t ms) noexcept {
    return static_cast<std::size_t>(std::lower_bound(kBoundsMs.begin(), kBoundsMs.end(), ms) - kBoundsMs.begin());
}

std::size_t exposed_bounds(std::int64_t timeout_ms) noexcept {
    return std::min(bucket_of(timeout_ms) + 1, kBoundsMs.size());
}

// ---------------------------------------------------------------- label values

AuthFailure classify_auth_failure(std::string_view authorization) noexcept {
    const std::string_view credential = extract_credential(authorization);
    if (credential.empty()) return AuthFailure::missing;
    return ascii::count_upto(credential, '.', 3) == 2 ? AuthFailure::jwt : AuthFailure::api_key;
}

std::string_view auth_failure_name(AuthFailure failure) noexcept {
    switch (failure) {
    case AuthFailure::jwt:
        return "jwt";
    case AuthFailure::api_key:
        return "api_key";
    case AuthFailure::missing:
        return "missing";
    }
    return "missing";
}

std::optional<Refusal> refusal_of(Limit limit) noexcept {
    switch (limit) {
    case Limit::cooldown:
        return Refusal::cooldown;
    case Limit::per_device:
        return Refusal::per_device;
    case Limit::per_phone:
        return Refusal::per_phone;
    case Limit::interval:
        return Refusal::interval;
    case Limit::numbers:
        return Refusal::numbers;
    case Limit::none:
        break;
    }
    return std::nullopt;
}

std::string_view refusal_name(Refusal refusal) noexcept {
    switch (refusal) {
    case Refusal::cooldown:
        return "cooldown";
    case Refusal::per_device:
        return "per_device";
    case Refusal::per_phone:
        return "per_phone";
    case Refusal::interval:
        return "interval";
    case Refusal::numbers:
        return "numbers";
    case Refusal::in_progress:
        return "in_progress";
    case Refusal::zone_full:
        return "zone_full";
    }
    return "";
}

// ---------------------------------------------------------------- text

void append_label_value(std::string &out, std::string_view value) {
    out += '"';
    for (char c : value) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
            break;
        }
    }
    out += '"';
}

void append_seconds(std::string &out, std::uint64_t ms) {
    out += std::to_string(ms / 1000);
    std::uint64_t frac = ms % 1000;
    if (frac == 0) return;
    char digits[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                      static_cast<char>('0' + frac % 10), '\0'};
    std::size_t len = 3;
    while (digits[len - 1] == '0') --len;
    out += '.';
    out.append(digits, len);
}

namespace {

using Label = std::pair<std::string_view, std::string_view>;

class Writer {
public:
    explicit Writer(std::string &out) : out_(out) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
        out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    }

    void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
        head(name, labels);
        out_.append(std::to_string(value)).append("\n");
    }

    void seconds(std::string_view name, std::initializer_list<Label> labels, std::uint64_t ms) {
        head(name, labels);
        append_seconds(out_, ms);
        out_.append("\n");
    }

private:
    void head(std::string_view name, std::initializer_list<Label> labels) {
        out_.append(name);
        if (labels.size() != 0) {
            char sep = '{';
            for (const Label &l : labels) {
                out_ += sep;
                out_.append(l.first).append("=");
                append_label_value(out_, l.second);
                sep = ',';
            }
            out_ += '}';
        }
        out_ += ' ';
    }

    std::string &out_;
};

constexpr std::string_view kCounter = "counter";
constexpr std::string_view kGauge = "gauge";

void requests(Writer &w, const std::vector<LocationSnapshot> &locations) {
    w.family("wa_pair_requests_total", kCounter,
             "Requests answered by wa_pair locations, by HTTP status and outcome "
             "($wa_pair_outcome).");
    for (const LocationSnapshot &loc : locations) {
        std::vector<RequestCount> rows = loc.requests;
        std::sort(rows.begin(), rows.end(), [](const RequestCount &a, const RequestCount &b) {
            return std::make_tuple(a.status, outcome_name(a.outcome)) <
                   std::make_tuple(b.status, outcome_name(b.outcome));
        });
        for (const RequestCount &row : rows) {
            if (row.count == 0) continue;
            const std::string status = row.status == kOtherStatus ? "other" : std::to_string(row.status);
            w.sample("wa_pair_requests_total",
                     {{"location", loc.name}, {"status", status}, {"outcome", outcome_name(row.outcome)}}, row.count);
        }
    }
}

void auth_failures(Writer &w, const std::vector<LocationSnapshot> &locations) {
    w.family("wa_pair_auth_failures_total", kCounter,
             "Requests refused with 401 at the edge, by the kind of credential: jwt, api_key "
             "(any other credential), missing (no or malformed Authorization).");
    for (const LocationSnapshot &loc : locations) {
        for (std::size_t i = 0; i < kAuthFailureCount; ++i) {
            w.sample("wa_pair_auth_failures_total",
                     {{"location", loc.name}, {"method", auth_failure_name(static_cast<AuthFailure>(i))}},
                     loc.auth_failures[i]);
        }
    }
}

void limited(Writer &w, const std::vector<LocationSnapshot> &locations) {
    w.family("wa_pair_limited_total", kCounter,
             "Requests the edge policy refused, by what refused them: cooldown, per_device, "
             "per_phone, interval, numbers (429), in_progress (409), zone_full (503).");
    for (const LocationSnapshot &loc : locations) {
        for (std::size_t i = 0; i < kRefusalCount; ++i) {
            if (!loc.has_zone && loc.limited[i] == 0) continue;
            w.sample("wa_pair_limited_total",
                     {{"location", loc.name}, {"limit", refusal_name(static_cast<Refusal>(i))}}, loc.limited[i]);
        }
    }
}

void backend_calls(Writer &w, const std::vector<LocationSnapshot> &locations) {
    w.family("wa_pair_backend_calls_total", kCounter,
             "Calls to the pairing backend, by protocol and how they ended (an outcome of "
             "$wa_pair_outcome).");
    for (const LocationSnapshot &loc : locations) {
        for (std::size_t p = 0; p < kProtocolCount; ++p) {
            for (std::size_t o = 0; o < kOutcomeCount; ++o) {
                if (loc.calls[p][o] == 0) continue;
                w.sample("wa_pair_backend_calls_total",
                         {{"location", loc.name},
                          {"protocol", protocol_name(static_cast<Protocol>(p))},
                          {"result", outcome_name(static_cast<Outcome>(o))}},
                         loc.calls[p][o]);
            }
        }
    }
}

void durations(Writer &w, const std::vector<LocationSnapshot> &locations) {
    w.family("wa_pair_backend_duration_seconds", "histogram",
             "How long calls to the pairing backend took, connecting included; the buckets end "
             "at the first bound covering the location's wa_pair_backend_timeout.");
    for (const LocationSnapshot &loc : locations) {
        const std::size_t shown = exposed_bounds(loc.timeout_ms);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets; ++i) {
            cumulative += loc.durations[i];
            if (i < shown) {
                std::string le;
                append_seconds(le, static_cast<std::uint64_t>(kBoundsMs[i]));
                w.sample("wa_pair_backend_duration_seconds_bucket", {{"location", loc.name}, {"le", le}}, cumulative);
            }
        }
        w.sample("wa_pair_backend_duration_seconds_bucket", {{"location", loc.name}, {"le", "+Inf"}}, cumulative);
        w.seconds("wa_pair_backend_duration_seconds_sum", {{"location", loc.name}}, loc.duration_sum_ms);
        w.sample("wa_pair_backend_duration_seconds_count", {{"location", loc.name}}, cumulative);
    }
}

void zones(Writer &w, const std::vector<ZoneSnapshot> &zs) {
    struct Gauge {
        std::string_view name;
        std::string_view type;
        std::string_view help;
        std::uint64_t ZoneSnapshot::*value;
    };
    static constexpr Gauge kGauges[] = {
        {"wa_pair_zone_devices", kGauge, "Devices the wa_pair_zone keeps.", &ZoneSnapshot::devices},
        {"wa_pair_zone_numbers", kGauge, "Phone numbers (as keyed hashes) the wa_pair_zone keeps.",
         &ZoneSnapshot::numbers},
        {"wa_pair_zone_bytes_used", kGauge, "Bytes of the wa_pair_zone not in free pages.", &ZoneSnapshot::bytes_used},
        {"wa_pair_zone_size_bytes", kGauge, "The wa_pair_zone's size.", &ZoneSnapshot::bytes_size},
        {"wa_pair_zone_calls_in_flight", kGauge, "Backend calls in flight for the zone's devices, in every worker.",
         &ZoneSnapshot::calls_in_flight},
        {"wa_pair_zone_waiters", kGauge, "Requests waiting for another request's call.", &ZoneSnapshot::waiters},
        {"wa_pair_zone_evictions_total", kCounter,
         "Entries freed to make room in a full zone (only entries the policy no longer needs).",
         &ZoneSnapshot::evictions},
    };
    for (const Gauge &g : kGauges) {
        w.family(g.name, g.type, g.help);
        for (const ZoneSnapshot &z : zs) {
            w.sample(g.name, {{"zone", z.name}}, z.*g.value);
        }
    }
}

void key_sources(Writer &w, const std::vector<JwksSnapshot> &jwks) {
    if (jwks.empty()) return;
    w.family("wa_pair_jwks_last_success_timestamp_seconds", kGauge,
             "When a key source last answered a good JWK Set (Unix time; 0: not yet).");
    for (const JwksSnapshot &s : jwks) {
        w.sample("wa_pair_jwks_last_success_timestamp_seconds", {{"url", s.url}}, s.last_success);
    }
    w.family("wa_pair_jwks_failures_total", kCounter,
             "Failed fetches of a key source (the last good keys are kept; the error log says why).");
    for (const JwksSnapshot &s : jwks) {
        w.sample("wa_pair_jwks_failures_total", {{"url", s.url}}, s.failures);
    }
}

}  // namespace

std::string render(const std::vector<LocationSnapshot> &locations, const std::vector<ZoneSnapshot> &zs,
                   const std::vector<JwksSnapshot> &jwks) {
    std::string out;
    out.reserve(1024 + locations.size() * 3072 + zs.size() * 512);
    Writer w(out);
    requests(w, locations);
    auth_failures(w, locations);
    limited(w, locations);
    backend_calls(w, locations);
    durations(w, locations);
    zones(w, zs);
    key_sources(w, jwks);
    return out;
}

}  // namespace wa_pair::metrics
