// The metrics' labels, buckets and text exposition (metrics.hpp). t/metrics.t reads what
// nginx serves with the Prometheus client's own parser.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "metrics/metrics.hpp"

namespace wa_pair::metrics {
namespace {

TEST(Buckets, ADurationGoesToTheFirstBoundAtOrAboveIt) {
    EXPECT_EQ(bucket_of(0), 0u);
    EXPECT_EQ(bucket_of(5), 0u);
    EXPECT_EQ(bucket_of(6), 1u);
    EXPECT_EQ(bucket_of(1000), 7u);
    EXPECT_EQ(bucket_of(1001), 8u);
    EXPECT_EQ(bucket_of(1000000), 16u);
    EXPECT_EQ(bucket_of(1000001), 17u) << "above every bound";
    EXPECT_EQ(kBuckets, 18u);
}

TEST(Buckets, ALocationShowsTheBoundsUpToTheFirstCoveringItsTimeout) {
    EXPECT_EQ(exposed_bounds(100000), 14u) << "the default 100 s: up to 100";
    EXPECT_EQ(exposed_bounds(60000), 14u) << "60 s: up to 100";
    EXPECT_EQ(exposed_bounds(50000), 13u) << "50 s: up to 50";
    EXPECT_EQ(exposed_bounds(200), 6u) << "200 ms: up to 0.25";
    EXPECT_EQ(exposed_bounds(1), 1u);
    EXPECT_EQ(exposed_bounds(86400000), kBoundsMs.size()) << "beyond the last: all of them";
}

TEST(Seconds, AreMillisecondsWithoutTrailingZeros) {
    const std::vector<std::pair<std::uint64_t, std::string>> rows = {
        {0, "0"},        {5, "0.005"},    {10, "0.01"},  {250, "0.25"},   {1000, "1"},
        {1001, "1.001"}, {1234, "1.234"}, {2500, "2.5"}, {100000, "100"}, {3600120, "3600.12"},
    };
    for (const auto &[ms, text] : rows) {
        std::string out;
        append_seconds(out, ms);
        EXPECT_EQ(out, text) << ms;
    }
}

TEST(Labels, AuthFailuresTellOnlyTheKindOfCredential) {
    const std::vector<std::pair<std::string_view, AuthFailure>> rows = {
        {"", AuthFailure::missing},
        {"   ", AuthFailure::missing},
        {"Bearer", AuthFailure::missing},
        {"Basic dXNlcjpwdw==", AuthFailure::missing},
        {"Bearer a b", AuthFailure::missing},
        {"Bearer aaa.bbb.ccc", AuthFailure::jwt},
        {"aaa.bbb.ccc", AuthFailure::jwt},
        {"bearer ..", AuthFailure::jwt},
        {"Bearer key-123", AuthFailure::api_key},
        {"aaa.bbb", AuthFailure::api_key},
        {"a.b.c.d", AuthFailure::api_key},
    };
    for (const auto &[header, kind] : rows) {
        EXPECT_EQ(classify_auth_failure(header), kind) << header;
    }
    EXPECT_EQ(auth_failure_name(AuthFailure::jwt), "jwt");
    EXPECT_EQ(auth_failure_name(AuthFailure::api_key), "api_key");
    EXPECT_EQ(auth_failure_name(AuthFailure::missing), "missing");
}

TEST(Labels, EveryLimitOfThePolicyIsARefusal) {
    const std::vector<std::pair<Limit, std::string_view>> rows = {
        {Limit::cooldown, "cooldown"}, {Limit::per_device, "per_device"}, {Limit::per_phone, "per_phone"},
        {Limit::interval, "interval"}, {Limit::numbers, "numbers"},
    };
    for (const auto &[limit, name] : rows) {
        const std::optional<Refusal> r = refusal_of(limit);
        ASSERT_TRUE(r) << name;
        EXPECT_EQ(refusal_name(*r), name);
    }
    EXPECT_FALSE(refusal_of(Limit::none));
    EXPECT_EQ(refusal_name(Refusal::in_progress), "in_progress");
    EXPECT_EQ(refusal_name(Refusal::zone_full), "zone_full");
    EXPECT_EQ(refusal_name(static_cast<Refusal>(kRefusalCount - 1)), "zone_full");
}

TEST(Labels, ValuesAreQuotedWithBackslashQuoteAndNewlineEscaped) {
    std::string out;
    append_label_value(out, "~ ^/a\\d+\"x\"\nz$");
    EXPECT_EQ(out, "\"~ ^/a\\\\d+\\\"x\\\"\\nz$\"");
}

// ---------------------------------------------------------------- the whole exposition

TEST(Render, WritesEveryFamilyOnceWithItsSamples) {
    LocationSnapshot pair;
    pair.name = "/pair";
    pair.has_zone = true;
    pair.timeout_ms = 200;
    pair.requests = {{429, Outcome::rate_limited, 1}, {200, Outcome::ok, 3},
                     {401, Outcome::unauthorized, 0}, {400, Outcome::backend_rejected, 2},
                     {400, Outcome::bad_request, 1},  {kOtherStatus, Outcome::internal_error, 6}};
    pair.auth_failures = {0, 0, 4};
    pair.limited[static_cast<std::size_t>(Refusal::interval)] = 1;
    pair.calls[static_cast<std::size_t>(Protocol::native)][static_cast<std::size_t>(Outcome::ok)] = 3;
    pair.calls[static_cast<std::size_t>(Protocol::waha)][static_cast<std::size_t>(Outcome::backend_timeout)] = 1;
    pair.durations[0] = 2;             // <= 5 ms
    pair.durations[5] = 1;             // <= 250 ms
    pair.durations[kBuckets - 1] = 1;  // above every bound
    pair.duration_sum_ms = 1234567;

    LocationSnapshot quoted;
    quoted.name = "~ \"x\"";
    quoted.timeout_ms = 5;

    ZoneSnapshot zone;
    zone.name = "pairing";
    zone.devices = 2;
    zone.numbers = 3;
    zone.bytes_used = 8192;
    zone.bytes_size = 1048576;
    zone.calls_in_flight = 1;
    zone.waiters = 4;
    zone.evictions = 5;

    const std::string expected =
        "# HELP wa_pair_requests_total Requests answered by wa_pair locations, by HTTP status and outcome "
        "($wa_pair_outcome).\n"
        "# TYPE wa_pair_requests_total counter\n"
        "wa_pair_requests_total{location=\"/pair\",status=\"other\",outcome=\"internal_error\"} 6\n"
        "wa_pair_requests_total{location=\"/pair\",status=\"200\",outcome=\"ok\"} 3\n"
        "wa_pair_requests_total{location=\"/pair\",status=\"400\",outcome=\"backend_rejected\"} 2\n"
        "wa_pair_requests_total{location=\"/pair\",status=\"400\",outcome=\"bad_request\"} 1\n"
        "wa_pair_requests_total{location=\"/pair\",status=\"429\",outcome=\"rate_limited\"} 1\n"
        "# HELP wa_pair_auth_failures_total Requests refused with 401 at the edge, by the kind of credential: jwt, "
        "api_key (any other credential), missing (no or malformed Authorization).\n"
        "# TYPE wa_pair_auth_failures_total counter\n"
        "wa_pair_auth_failures_total{location=\"/pair\",method=\"jwt\"} 0\n"
        "wa_pair_auth_failures_total{location=\"/pair\",method=\"api_key\"} 0\n"
        "wa_pair_auth_failures_total{location=\"/pair\",method=\"missing\"} 4\n"
        "wa_pair_auth_failures_total{location=\"~ \\\"x\\\"\",method=\"jwt\"} 0\n"
        "wa_pair_auth_failures_total{location=\"~ \\\"x\\\"\",method=\"api_key\"} 0\n"
        "wa_pair_auth_failures_total{location=\"~ \\\"x\\\"\",method=\"missing\"} 0\n"
        "# HELP wa_pair_limited_total Requests the edge policy refused, by what refused them: cooldown, per_device, "
        "per_phone, interval, numbers (429), in_progress (409), zone_full (503).\n"
        "# TYPE wa_pair_limited_total counter\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"cooldown\"} 0\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"per_device\"} 0\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"per_phone\"} 0\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"interval\"} 1\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"numbers\"} 0\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"in_progress\"} 0\n"
        "wa_pair_limited_total{location=\"/pair\",limit=\"zone_full\"} 0\n"
        "# HELP wa_pair_backend_calls_total Calls to the pairing backend, by protocol and how they ended (an outcome "
        "of $wa_pair_outcome).\n"
        "# TYPE wa_pair_backend_calls_total counter\n"
        "wa_pair_backend_calls_total{location=\"/pair\",protocol=\"native\",result=\"ok\"} 3\n"
        "wa_pair_backend_calls_total{location=\"/pair\",protocol=\"waha\",result=\"backend_timeout\"} 1\n"
        "# HELP wa_pair_backend_duration_seconds How long calls to the pairing backend took, connecting included; the "
        "buckets end at the first bound covering the location's wa_pair_backend_timeout.\n"
        "# TYPE wa_pair_backend_duration_seconds histogram\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.005\"} 2\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.01\"} 2\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.025\"} 2\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.05\"} 2\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.1\"} 2\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"0.25\"} 3\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"/pair\",le=\"+Inf\"} 4\n"
        "wa_pair_backend_duration_seconds_sum{location=\"/pair\"} 1234.567\n"
        "wa_pair_backend_duration_seconds_count{location=\"/pair\"} 4\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"~ \\\"x\\\"\",le=\"0.005\"} 0\n"
        "wa_pair_backend_duration_seconds_bucket{location=\"~ \\\"x\\\"\",le=\"+Inf\"} 0\n"
        "wa_pair_backend_duration_seconds_sum{location=\"~ \\\"x\\\"\"} 0\n"
        "wa_pair_backend_duration_seconds_count{location=\"~ \\\"x\\\"\"} 0\n"
        "# HELP wa_pair_zone_devices Devices the wa_pair_zone keeps.\n"
        "# TYPE wa_pair_zone_devices gauge\n"
        "wa_pair_zone_devices{zone=\"pairing\"} 2\n"
        "# HELP wa_pair_zone_numbers Phone numbers (as keyed hashes) the wa_pair_zone keeps.\n"
        "# TYPE wa_pair_zone_numbers gauge\n"
        "wa_pair_zone_numbers{zone=\"pairing\"} 3\n"
        "# HELP wa_pair_zone_bytes_used Bytes of the wa_pair_zone not in free pages.\n"
        "# TYPE wa_pair_zone_bytes_used gauge\n"
        "wa_pair_zone_bytes_used{zone=\"pairing\"} 8192\n"
        "# HELP wa_pair_zone_size_bytes The wa_pair_zone's size.\n"
        "# TYPE wa_pair_zone_size_bytes gauge\n"
        "wa_pair_zone_size_bytes{zone=\"pairing\"} 1048576\n"
        "# HELP wa_pair_zone_calls_in_flight Backend calls in flight for the zone's devices, in every worker.\n"
        "# TYPE wa_pair_zone_calls_in_flight gauge\n"
        "wa_pair_zone_calls_in_flight{zone=\"pairing\"} 1\n"
        "# HELP wa_pair_zone_waiters Requests waiting for another request's call.\n"
        "# TYPE wa_pair_zone_waiters gauge\n"
        "wa_pair_zone_waiters{zone=\"pairing\"} 4\n"
        "# HELP wa_pair_zone_evictions_total Entries freed to make room in a full zone (only entries the policy no "
        "longer needs).\n"
        "# TYPE wa_pair_zone_evictions_total counter\n"
        "wa_pair_zone_evictions_total{zone=\"pairing\"} 5\n";
    EXPECT_EQ(render({pair, quoted}, {zone}), expected);
}

TEST(Render, WithNothingToCountStillNamesEveryFamily) {
    const std::string text = render({}, {});
    EXPECT_EQ(text.find("{"), std::string::npos) << text;
    for (std::string_view family :
         {"wa_pair_requests_total", "wa_pair_auth_failures_total", "wa_pair_limited_total",
          "wa_pair_backend_calls_total", "wa_pair_backend_duration_seconds", "wa_pair_zone_devices",
          "wa_pair_zone_numbers", "wa_pair_zone_bytes_used", "wa_pair_zone_size_bytes", "wa_pair_zone_calls_in_flight",
          "wa_pair_zone_waiters", "wa_pair_zone_evictions_total"}) {
        EXPECT_NE(text.find("# TYPE " + std::string(family) + " "), std::string::npos) << family;
    }
}

TEST(Render, KeySourcesByUrlOnlyWhenThereAreSome) {
    EXPECT_EQ(render({}, {}).find("wa_pair_jwks_"), std::string::npos);
    const std::string text =
        render({}, {}, {{"https://id.example/certs", 1796457600, 0}, {"https://other.example/jwks.json", 0, 3}});
    EXPECT_NE(text.find("# TYPE wa_pair_jwks_last_success_timestamp_seconds gauge\n"), std::string::npos) << text;
    EXPECT_NE(text.find("wa_pair_jwks_last_success_timestamp_seconds{url=\"https://id.example/certs\"} 1796457600\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("wa_pair_jwks_last_success_timestamp_seconds{url=\"https://other.example/jwks.json\"} 0\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("# TYPE wa_pair_jwks_failures_total counter\n"), std::string::npos) << text;
    EXPECT_NE(text.find("wa_pair_jwks_failures_total{url=\"https://other.example/jwks.json\"} 3\n"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace wa_pair::metrics
