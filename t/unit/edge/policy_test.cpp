// The edge policy's pure logic (policy.hpp): coalescing, reuse, limits, with time passed in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "edge/policy.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kHour = 3600 * kSecond;
constexpr std::int64_t kT0 = 5'000'000;  // any clock reading; the policy only subtracts

ZoneKey test_key() {
    ZoneKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
    return key;
}

PhoneHash hashed(const ZoneKey &key, std::string_view digits) {
    const std::optional<PhoneHash> h = hash_phone(key, digits);
    EXPECT_TRUE(h);
    return h.value_or(PhoneHash{});
}

const PhoneHash kPhoneA = hashed(test_key(), "6281234567890");
const PhoneHash kPhoneB = hashed(test_key(), "6281234567891");

CallResult success(const char *code, int timeout) {
    CallResult o{};
    o.status = 200;
    o.seconds = timeout;
    std::string_view text(code);
    std::memcpy(o.code, text.data(), std::min(text.size(), kPairCodeSize - 1));
    return o;
}

CallResult failure(int status, int seconds = 0) {
    CallResult o{};
    o.status = status;
    o.seconds = seconds;
    return o;
}

// A device and the phones it asks for, with a clock; each call returns the decision.
struct World {
    PolicyConfig config;
    DeviceState device{};
    PhoneState phone_a{};
    PhoneState phone_b{};
    std::uint64_t next_flight = 1;
    std::int64_t now = kT0;

    PhoneState &phone(const PhoneHash &h) { return h == kPhoneA ? phone_a : phone_b; }

    Decision ask(const PhoneHash &h, bool refresh = false) {
        Decision d = decide(device, phone(h), h, refresh, config, next_flight, now);
        if (d.verdict == Verdict::proceed) next_flight++;
        return d;
    }

    // A request that proceeds and whose call answers at once.
    Decision pair(const PhoneHash &h, const CallResult &o, bool refresh = false) {
        Decision d = ask(h, refresh);
        if (d.verdict == Verdict::proceed) {
            EXPECT_TRUE(record_outcome(device, &phone(h), d.flight, o, now));
        }
        return d;
    }
};

// ---------------------------------------------------------------- keyed phone hash

TEST(HashPhone, IsTheFirstHalfOfHmacSha256UnderTheZoneKey) {
    // python3: hmac.new(bytes(range(32)), b"6281234567890", "sha256").hexdigest()[:32]
    const std::uint8_t expected[16] = {0x06, 0x3b, 0xe8, 0x3e, 0x19, 0xb7, 0xd6, 0x67,
                                       0xc2, 0xe1, 0x75, 0xcf, 0x83, 0x46, 0x49, 0xbd};
    EXPECT_EQ(0, std::memcmp(kPhoneA.data(), expected, sizeof expected));
}

TEST(HashPhone, DependsOnTheNumberAndOnTheKey) {
    EXPECT_NE(kPhoneA, kPhoneB);
    ZoneKey other = test_key();
    other[0] ^= 1;
    EXPECT_NE(hashed(other, "6281234567890"), kPhoneA);
    EXPECT_EQ(hashed(test_key(), "6281234567890"), kPhoneA);
}

// ---------------------------------------------------------------- wa_pair_limit arguments

struct LimitRow {
    const char *name;
    std::vector<std::string_view> args;
    std::uint32_t device_count;
    std::int64_t device_window;
    std::uint32_t phone_count;
    std::int64_t phone_window;
    std::int64_t interval;
    const char *error;  // "" when valid
};

void PrintTo(const LimitRow &row, std::ostream *os) {
    *os << row.name;
}

class ParseLimits : public testing::TestWithParam<LimitRow> {};

TEST_P(ParseLimits, GivesTheLimitsOrAClearError) {
    const LimitRow &row = GetParam();
    LimitsParse p = parse_limits(row.args.data(), row.args.size());
    EXPECT_EQ(p.error, row.error);
    if (p.error.empty()) {
        EXPECT_EQ(p.limits.per_device.count, row.device_count);
        EXPECT_EQ(p.limits.per_device.window_ms, row.device_window);
        EXPECT_EQ(p.limits.per_phone.count, row.phone_count);
        EXPECT_EQ(p.limits.per_phone.window_ms, row.phone_window);
        EXPECT_EQ(p.limits.interval_ms, row.interval);
    }
}

const LimitRow kLimitRows[] = {
    {"the_issue_example", {"per_device=5/h", "per_phone=5/h", "interval=30s"}, 5, kHour, 5, kHour, 30 * kSecond, ""},
    {"any_order_and_subset", {"interval=1m", "per_phone=3/d"}, 0, 0, 3, 24 * kHour, 60 * kSecond, ""},
    {"units", {"per_device=2/30s", "per_phone=16/10m"}, 2, 30 * kSecond, 16, 600 * kSecond, 0, ""},
    {"counted_period", {"per_device=1/2h"}, 1, 2 * kHour, 0, 0, 0, ""},
    {"bare_interval_is_seconds", {"interval=45"}, 0, 0, 0, 0, 45 * kSecond, ""},
    {"one_day_is_the_longest", {"per_device=1/24h", "interval=1d"}, 1, 24 * kHour, 0, 0, 24 * kHour, ""},
    {"off", {"off"}, 0, 0, 0, 0, 0, ""},
    {"off_with_more", {"off", "interval=1s"}, 0, 0, 0, 0, 0, "\"off\" cannot be combined with other parameters"},
    {"unknown_parameter", {"per_ip=5/h"}, 0, 0, 0, 0, 0, "invalid parameter \"per_ip=5/h\""},
    {"no_value", {"per_device"}, 0, 0, 0, 0, 0, "invalid parameter \"per_device\""},
    {"duplicate", {"per_device=5/h", "per_device=6/h"}, 0, 0, 0, 0, 0, "duplicate parameter \"per_device=6/h\""},
    {"zero_count",
     {"per_device=0/h"},
     0,
     0,
     0,
     0,
     0,
     "invalid count in \"per_device=0/h\" (must be 1 to 16 calls, as in per_device=5/h)"},
    {"count_over_16",
     {"per_phone=17/h"},
     0,
     0,
     0,
     0,
     0,
     "invalid count in \"per_phone=17/h\" (must be 1 to 16 calls, as in per_phone=5/h)"},
    {"no_slash",
     {"per_device=5"},
     0,
     0,
     0,
     0,
     0,
     "invalid count in \"per_device=5\" (must be 1 to 16 calls, as in per_device=5/h)"},
    {"negative",
     {"per_device=-1/h"},
     0,
     0,
     0,
     0,
     0,
     "invalid count in \"per_device=-1/h\" (must be 1 to 16 calls, as in per_device=5/h)"},
    {"bad_unit",
     {"per_device=5/w"},
     0,
     0,
     0,
     0,
     0,
     "invalid period in \"per_device=5/w\" (must be [N]s, m, h or d, from 1s to 1d)"},
    {"rate_needs_a_unit",
     {"per_device=5/60"},
     0,
     0,
     0,
     0,
     0,
     "invalid period in \"per_device=5/60\" (must be [N]s, m, h or d, from 1s to 1d)"},
    {"period_over_a_day",
     {"per_device=5/2d"},
     0,
     0,
     0,
     0,
     0,
     "invalid period in \"per_device=5/2d\" (must be [N]s, m, h or d, from 1s to 1d)"},
    {"zero_period",
     {"per_device=5/0s"},
     0,
     0,
     0,
     0,
     0,
     "invalid period in \"per_device=5/0s\" (must be [N]s, m, h or d, from 1s to 1d)"},
    {"zero_interval", {"interval=0"}, 0, 0, 0, 0, 0, "invalid interval \"interval=0\" (must be 1s to 1d)"},
    {"interval_unit_alone", {"interval=s"}, 0, 0, 0, 0, 0, "invalid interval \"interval=s\" (must be 1s to 1d)"},
    {"interval_ms", {"interval=500ms"}, 0, 0, 0, 0, 0, "invalid interval \"interval=500ms\" (must be 1s to 1d)"},
    {"huge_number",
     {"interval=99999999999999999999"},
     0,
     0,
     0,
     0,
     0,
     "invalid interval \"interval=99999999999999999999\" (must be 1s to 1d)"},
};

INSTANTIATE_TEST_SUITE_P(Table, ParseLimits, testing::ValuesIn(kLimitRows), RowName());

// ---------------------------------------------------------------- coalescing

TEST(Coalescing, TheFirstRequestCallsTheBackendTheSameOneWaitsAnotherPhoneConflicts) {
    World w;
    Decision first = w.ask(kPhoneA);
    ASSERT_EQ(first.verdict, Verdict::proceed);
    EXPECT_EQ(first.flight, 1u);

    w.now += 300;
    Decision same = w.ask(kPhoneA);
    EXPECT_EQ(same.verdict, Verdict::wait);
    EXPECT_EQ(same.flight, first.flight);
    EXPECT_EQ(same.deadline, kT0 + w.config.flight_ms);

    EXPECT_EQ(w.ask(kPhoneA, true).verdict, Verdict::wait) << "a refresh waits for the newer code";
    EXPECT_EQ(w.ask(kPhoneB).verdict, Verdict::conflict);
    EXPECT_EQ(w.ask(kPhoneB, true).verdict, Verdict::conflict);
}

TEST(Coalescing, WaitersGetTheAnswerOfTheirCall) {
    World w;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::pending);

    w.now += 800;
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, success("ABCD-1234", 120), w.now));
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::answered);
    EXPECT_EQ(w.device.result.status, 200);
    EXPECT_EQ(w.device.result.seconds, 120);
    EXPECT_STREQ(w.device.result.code, "ABCD-1234");
}

TEST(Coalescing, AFailureIsSharedToo) {
    World w;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, failure(500), w.now));
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::answered);
    EXPECT_EQ(w.device.result.status, 500);
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed) << "a failure leaves no code to reuse";
}

TEST(Coalescing, AWaiterTimesOutAtTheDeadlineAndTheCallIsThenGivenUp) {
    World w;
    w.config.flight_ms = 2000;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    w.now += 1999;
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::pending);
    w.now += 1;
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::timed_out);

    // the caller's worker died: the next request is not wedged
    Decision next = w.ask(kPhoneB);
    ASSERT_EQ(next.verdict, Verdict::proceed);
    EXPECT_NE(next.flight, first.flight);
    // a late answer of the given-up call changes nothing but its count
    EXPECT_FALSE(record_outcome(w.device, &w.phone_a, first.flight, success("LATE-LATE", 120), w.now));
    EXPECT_EQ(w.device.flight, next.flight);
    EXPECT_EQ(w.device.code[0], '\0');
}

TEST(Coalescing, AnAbandonedCallSendsItsWaitersBackToDecide) {
    World w;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    abandon(w.device, first.flight + 99);  // not the device's call: nothing happens
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::pending);
    abandon(w.device, first.flight);
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::gone);
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Coalescing, AWaiterOfAnOlderCallDoesNotTakeANewerAnswer) {
    World w;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    abandon(w.device, first.flight);
    Decision second = w.ask(kPhoneA);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, second.flight, success("NEWC-ODE1", 120), w.now));
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::gone);
}

// ---------------------------------------------------------------- reuse

TEST(Reuse, ALiveCodeIsAnsweredAgainWithTheSecondsItHasLeft) {
    World w;
    w.pair(kPhoneA, success("ABCD-1234", 120));

    w.now += 250;
    Decision d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::reuse);
    EXPECT_STREQ(d.code, "ABCD-1234");
    EXPECT_EQ(d.seconds, 119) << "rounded down: the code is valid at least that long";

    w.now = kT0 + 100 * kSecond;
    d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::reuse);
    EXPECT_EQ(d.seconds, 20);
    EXPECT_EQ(w.device.calls.size, 1u) << "a reuse is not a call";
}

TEST(Reuse, EndsWhenNoMoreThanTheMarginIsLeft) {
    World w;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    w.now = kT0 + 104 * kSecond;  // 16 s left
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::reuse);
    w.now = kT0 + 105 * kSecond;  // exactly 15 s left: not more than the margin
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Reuse, AZeroMarginStillNeedsOneWholeSecond) {
    World w;
    w.config.reuse_margin_ms = 0;
    w.pair(kPhoneA, success("ABCD-1234", 10));
    w.now = kT0 + 9 * kSecond;
    EXPECT_EQ(w.ask(kPhoneA).seconds, 1);
    w.now += 1;
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Reuse, RefreshForcesANewCode) {
    World w;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    Decision d = w.ask(kPhoneA, true);
    ASSERT_EQ(d.verdict, Verdict::proceed);
    EXPECT_EQ(w.device.code[0], '\0') << "WhatsApp invalidates the old code: never answered again";
    // until the new call answers, a plain request waits for it rather than reusing the old code
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::wait);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, d.flight, success("WXYZ-9876", 120), w.now));
    EXPECT_STREQ(w.ask(kPhoneA).code, "WXYZ-9876");
}

TEST(Reuse, IsForTheSamePhoneOnly) {
    World w;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    Decision d = w.ask(kPhoneB);
    EXPECT_EQ(d.verdict, Verdict::proceed) << "another number: a new code, the old one dies";
    ASSERT_TRUE(record_outcome(w.device, &w.phone_b, d.flight, success("BBBB-2222", 60), w.now));
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Reuse, OffAsksEveryTime) {
    World w;
    w.config.reuse = false;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Reuse, ServesACodeEvenDuringACoolDownOrOverTheLimits) {
    World w;
    w.config.limits.per_device = {1, kHour};
    w.pair(kPhoneA, success("ABCD-1234", 120));
    w.device.cooldown_until = w.now + kHour;
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::reuse);
}

// ---------------------------------------------------------------- limits

TEST(Limits, PerDeviceCountsCallsInASlidingWindow) {
    World w;
    w.config.reuse = false;
    w.config.limits.per_device = {3, kHour};
    for (std::int64_t minute : {0, 10, 20}) {
        w.now = kT0 + minute * 60 * kSecond;
        ASSERT_EQ(w.pair(kPhoneA, success("ABCD-1234", 120)).verdict, Verdict::proceed) << minute;
    }
    w.now = kT0 + 30 * 60 * kSecond;
    Decision d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 30 * 60) << "until the call at minute 0 leaves the window";

    w.now = kT0 + kHour - 1;
    EXPECT_EQ(w.ask(kPhoneA).seconds, 1);
    w.now = kT0 + kHour;
    EXPECT_EQ(w.pair(kPhoneA, success("ABCD-1234", 120)).verdict, Verdict::proceed);
    d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 10 * 60) << "now the call at minute 10";
}

TEST(Limits, AnswersFromTheZoneAreNotCounted) {
    World w;
    w.config.limits.per_device = {1, kHour};
    Decision first = w.ask(kPhoneA);
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::wait);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, success("ABCD-1234", 120), w.now));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::reuse);
    EXPECT_EQ(w.ask(kPhoneA, true).verdict, Verdict::limited);
}

TEST(Limits, PerPhoneCountsCallsFromEveryDevice) {
    World w;
    w.config.limits.per_phone = {2, kHour};
    DeviceState other{};
    w.pair(kPhoneA, success("ABCD-1234", 120));
    Decision d = decide(other, w.phone_a, kPhoneA, false, w.config, 50, w.now);
    ASSERT_EQ(d.verdict, Verdict::proceed);
    ASSERT_TRUE(record_outcome(other, &w.phone_a, d.flight, success("ABCD-5678", 120), w.now));
    DeviceState third{};
    w.now += 5 * kSecond;
    d = decide(third, w.phone_a, kPhoneA, false, w.config, 51, w.now);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 3595);
    EXPECT_EQ(third.calls.size, 0u) << "a refused request is not a call";
    EXPECT_EQ(w.ask(kPhoneB).verdict, Verdict::proceed) << "another number is not limited";
}

TEST(Limits, IntervalSpacesCallsForADeviceAndForAPhone) {
    World w;
    w.config.reuse = false;
    w.config.limits.interval_ms = 30 * kSecond;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    w.now += 10 * kSecond + 1;
    Decision d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 20);
    EXPECT_EQ(w.ask(kPhoneB).verdict, Verdict::limited) << "the device's interval";

    DeviceState other{};
    EXPECT_EQ(decide(other, w.phone_a, kPhoneA, false, w.config, 60, w.now).verdict, Verdict::limited)
        << "the phone's interval";
    w.now = kT0 + 30 * kSecond;
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Limits, RetryAfterIsWhenEveryLimitAllows) {
    World w;
    w.config.reuse = false;
    w.config.limits.per_device = {1, 60 * kSecond};
    w.config.limits.interval_ms = 90 * kSecond;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    EXPECT_EQ(w.ask(kPhoneA).seconds, 90);
}

// Which limit refused, for wa_pair_limited_total: the one that holds longest, the first of
// cooldown, per_device, per_phone, interval on a tie.
struct WhichLimitRow {
    const char *name;
    RateLimit per_device;
    RateLimit per_phone;
    std::int64_t interval_ms;
    int backend_retry_after;  // > 0: the call answers 429 with it, else a code
    bool other_device;        // the refused request comes from another device (same phone)
    Limit expected;
    long seconds;
};

void PrintTo(const WhichLimitRow &row, std::ostream *os) {
    *os << row.name;
}

class WhichLimit : public testing::TestWithParam<WhichLimitRow> {};

TEST_P(WhichLimit, IsTheOneThatHoldsLongest) {
    const WhichLimitRow &row = GetParam();
    World w;
    w.config.reuse = false;
    w.config.limits.per_device = row.per_device;
    w.config.limits.per_phone = row.per_phone;
    w.config.limits.interval_ms = row.interval_ms;
    w.pair(kPhoneA, row.backend_retry_after > 0 ? failure(429, row.backend_retry_after) : success("ABCD-1234", 120));
    DeviceState other{};
    Decision d = row.other_device ? decide(other, w.phone_a, kPhoneA, false, w.config, 90, w.now) : w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.limit, row.expected);
    EXPECT_EQ(d.seconds, row.seconds);
}

constexpr RateLimit kNoLimit{};

INSTANTIATE_TEST_SUITE_P(
    Policy, WhichLimit,
    testing::Values(
        WhichLimitRow{"cooldown", kNoLimit, kNoLimit, 0, 7, false, Limit::cooldown, 7},
        WhichLimitRow{"cooldown_of_the_phone", kNoLimit, kNoLimit, 0, 7, true, Limit::cooldown, 7},
        WhichLimitRow{"per_device", {1, kHour}, kNoLimit, 0, 0, false, Limit::per_device, 3600},
        WhichLimitRow{"per_phone", kNoLimit, {1, kHour}, 0, 0, true, Limit::per_phone, 3600},
        WhichLimitRow{"interval_of_the_device", kNoLimit, kNoLimit, 30 * kSecond, 0, false, Limit::interval, 30},
        WhichLimitRow{"interval_of_the_phone", kNoLimit, kNoLimit, 30 * kSecond, 0, true, Limit::interval, 30},
        WhichLimitRow{"interval_holds_longer_than_per_device",
                      {1, 60 * kSecond},
                      kNoLimit,
                      90 * kSecond,
                      0,
                      false,
                      Limit::interval,
                      90},
        WhichLimitRow{"per_device_holds_longer_than_interval",
                      {1, 120 * kSecond},
                      kNoLimit,
                      30 * kSecond,
                      0,
                      false,
                      Limit::per_device,
                      120},
        WhichLimitRow{
            "per_phone_holds_longer_than_the_cooldown", kNoLimit, {1, kHour}, 0, 7, true, Limit::per_phone, 3600},
        WhichLimitRow{"a_tie_names_per_device_before_interval",
                      {1, 30 * kSecond},
                      kNoLimit,
                      30 * kSecond,
                      0,
                      false,
                      Limit::per_device,
                      30},
        WhichLimitRow{"a_tie_names_the_cooldown_first", {1, 7 * kSecond}, kNoLimit, 0, 7, false, Limit::cooldown, 7}),
    RowName());

TEST(Limits, OnlyARefusalNamesALimit) {
    World w;
    w.config.limits.interval_ms = 30 * kSecond;
    Decision first = w.ask(kPhoneA);
    EXPECT_EQ(first.limit, Limit::none);           // proceed
    EXPECT_EQ(w.ask(kPhoneA).limit, Limit::none);  // wait
    EXPECT_EQ(w.ask(kPhoneB).limit, Limit::none);  // conflict
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, success("ABCD-1234", 120), w.now));
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::reuse);
    EXPECT_EQ(w.ask(kPhoneA).limit, Limit::none);            // reuse
    EXPECT_EQ(w.ask(kPhoneA, true).limit, Limit::interval);  // refresh: refused
}

TEST(Limits, SixteenCallsAreTracked) {
    World w;
    w.config.reuse = false;
    w.config.limits.per_device = {kMaxLimitCount, kHour};
    for (std::uint32_t i = 0; i < kMaxLimitCount; ++i) {
        w.now = kT0 + i * kSecond;
        ASSERT_EQ(w.pair(kPhoneA, success("ABCD-1234", 120)).verdict, Verdict::proceed) << i;
    }
    Decision d = w.ask(kPhoneA);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 3600 - 15);
}

TEST(Limits, ABackend429StartsACoolDownForTheDeviceAndThePhone) {
    World w;
    Decision first = w.ask(kPhoneA);
    Decision waiter = w.ask(kPhoneA);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, failure(429, 7), w.now));
    EXPECT_EQ(poll_flight(w.device, waiter.flight, waiter.deadline, w.now), WaitState::answered);
    EXPECT_EQ(w.device.result.seconds, 7) << "waiters get the same Retry-After";

    w.now += 500;
    Decision d = w.ask(kPhoneA, true);
    ASSERT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 7) << "6.5 s rounded up";
    EXPECT_EQ(w.ask(kPhoneB).verdict, Verdict::limited) << "the device cools down";
    DeviceState other{};
    EXPECT_EQ(decide(other, w.phone_a, kPhoneA, false, w.config, 70, w.now).verdict, Verdict::limited)
        << "the phone cools down";
    w.now = kT0 + 7 * kSecond;
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

TEST(Limits, ALate429OfAGivenUpCallStillCoolsDown) {
    World w;
    w.config.flight_ms = 1000;
    Decision first = w.ask(kPhoneA);
    w.now += 5000;
    Decision second = w.ask(kPhoneB);
    ASSERT_EQ(second.verdict, Verdict::proceed);
    EXPECT_FALSE(record_outcome(w.device, &w.phone_a, first.flight, failure(429, 30), w.now));
    EXPECT_EQ(w.device.flight, second.flight);
    ASSERT_TRUE(record_outcome(w.device, &w.phone_b, second.flight, failure(500), w.now));
    EXPECT_EQ(w.ask(kPhoneA).seconds, 30);
}

TEST(Limits, ALateAnswerOfACallNobodyReplacedIsStillUsed) {
    World w;
    w.config.flight_ms = 1000;
    Decision first = w.ask(kPhoneA);
    w.now += 5000;  // its waiters have timed out, but no other call started
    EXPECT_TRUE(record_outcome(w.device, &w.phone_a, first.flight, success("ABCD-1234", 120), w.now));
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::reuse);
}

TEST(Limits, AnUnreachableBackendCallIsNotCounted) {
    World w;
    w.config.limits.per_device = {1, kHour};
    w.config.limits.per_phone = {1, kHour};
    w.pair(kPhoneA, failure(503));
    EXPECT_EQ(w.device.calls.size, 0u);
    EXPECT_EQ(w.phone_a.calls.size, 0u);
    w.pair(kPhoneA, failure(504));
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::limited) << "a timeout may have reached WhatsApp";
}

TEST(Limits, ClocksReadOutOfOrderKeepTheLogSorted) {
    World w;
    w.config.reuse = false;
    w.config.limits.per_device = {2, kHour};
    w.now = kT0 + 10;
    w.pair(kPhoneA, success("ABCD-1234", 120));
    w.now = kT0;  // another worker's slightly older reading
    w.pair(kPhoneA, success("ABCD-1234", 120));
    EXPECT_EQ(w.device.calls.at[0], kT0);
    EXPECT_EQ(w.device.calls.at[1], kT0 + 10);
    w.now = kT0 + kHour - 1;
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::limited);
    w.now = kT0 + kHour;  // the call at kT0 has left the window, the one at +10 ms has not
    EXPECT_EQ(w.ask(kPhoneA).verdict, Verdict::proceed);
}

// ---------------------------------------------------------------- the numbers a device holds

// `count` distinct numbers' hashes.
std::vector<PhoneHash> numbers(std::size_t count) {
    std::vector<PhoneHash> out;
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(hashed(test_key(), "62812345" + std::to_string(10000 + i)));
    }
    return out;
}

TEST(Numbers, ADeviceHoldsAtMostEightLiveNumbersThenWaitsForTheFirstToLapse) {
    PolicyConfig config;
    config.reuse = false;
    config.limits.per_phone = {1, kHour};  // each number's entry lives an hour after its call
    DeviceState device{};
    const std::vector<PhoneHash> hashes = numbers(kMaxNumbersPerDevice + 1);
    std::vector<PhoneState> phones(hashes.size());
    std::int64_t now = kT0;
    for (std::size_t i = 0; i < kMaxNumbersPerDevice; ++i, now += kSecond) {
        Decision d = decide(device, phones[i], hashes[i], false, config, i + 1, now);
        ASSERT_EQ(d.verdict, Verdict::proceed) << i;
        ASSERT_TRUE(record_outcome(device, &phones[i], d.flight, failure(500), now));
    }
    PhoneState ninth{};
    Decision d = decide(device, ninth, hashes.back(), false, config, 99, now);
    EXPECT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.limit, Limit::numbers);
    EXPECT_EQ(d.seconds, seconds_until(kT0 + kHour, now));  // the first number's entry lapses
    EXPECT_EQ(ninth.calls.size, 0u);                        // nothing counted for the ninth

    // a number the device holds is not a new one
    now = kT0 + kHour + 8 * kSecond;  // every per_phone window has passed
    d = decide(device, phones[3], hashes[3], false, config, 100, now);
    EXPECT_EQ(d.verdict, Verdict::proceed);
    ASSERT_TRUE(record_outcome(device, &phones[3], d.flight, failure(500), now));
    // and once the first lapsed, the ninth fits
    d = decide(device, ninth, hashes.back(), false, config, 101, now);
    EXPECT_EQ(d.verdict, Verdict::proceed);
}

TEST(Numbers, NumbersWhoseEntriesDoNotLiveAreNotHeld) {
    PolicyConfig config;  // no per_phone limit, no interval: a number's entry outlives nothing
    config.reuse = false;
    DeviceState device{};
    const std::vector<PhoneHash> hashes = numbers(3 * kMaxNumbersPerDevice);
    std::int64_t now = kT0;
    for (std::size_t i = 0; i < hashes.size(); ++i, now += kSecond) {
        PhoneState phone{};
        Decision d = decide(device, phone, hashes[i], false, config, i + 1, now);
        ASSERT_EQ(d.verdict, Verdict::proceed) << i;
        ASSERT_TRUE(record_outcome(device, &phone, d.flight, success("ABCD-1234", 120), now));
    }
}

TEST(Numbers, ABackend429KeepsTheNumberHeldForTheCoolDown) {
    PolicyConfig config;
    config.reuse = false;
    DeviceState device{};
    const std::vector<PhoneHash> hashes = numbers(kMaxNumbersPerDevice + 1);
    std::vector<PhoneState> phones(hashes.size());
    for (std::size_t i = 0; i < kMaxNumbersPerDevice; ++i) {
        Decision d = decide(device, phones[i], hashes[i], false, config, i + 1, kT0);
        ASSERT_EQ(d.verdict, Verdict::proceed) << i;
        ASSERT_TRUE(record_outcome(device, &phones[i], d.flight, failure(429, 600), kT0));
        device.cooldown_until = 0;  // the device's own cool-down would answer first: not the point
    }
    Decision d = decide(device, phones.back(), hashes.back(), false, config, 50, kT0 + kSecond);
    EXPECT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(d.seconds, 599);
    EXPECT_GE(live_until(device, config.limits), kT0 + 600 * kSecond);  // the bound lives as long
}

TEST(Numbers, ARefusedRequestChangesNothingAZoneMustKeep) {
    // Decided on empty states (a zone without entries for them), a refusal leaves them empty:
    // a zone may store nothing for it.
    PolicyConfig config;
    config.limits.per_device = {1, kHour};
    DeviceState device{};
    PhoneState phone{};
    Decision d = decide(device, phone, kPhoneA, false, config, 1, kT0);
    ASSERT_EQ(d.verdict, Verdict::proceed);
    ASSERT_TRUE(record_outcome(device, &phone, d.flight, failure(500), kT0));
    const PhoneState fresh{};
    PhoneState fresh_phone{};
    d = decide(device, fresh_phone, kPhoneB, false, config, 2, kT0 + kSecond);  // per_device
    EXPECT_EQ(d.verdict, Verdict::limited);
    EXPECT_EQ(0, std::memcmp(&fresh_phone, &fresh, sizeof fresh));
    EXPECT_EQ(fresh_phone.calls.size, 0u);
    EXPECT_EQ(live_until(fresh_phone, config.limits), live_until(PhoneState{}, config.limits));
}

// ---------------------------------------------------------------- bookkeeping

TEST(LiveUntil, CoversCodesCallsInFlightCoolDownsWindowsAndHeldNumbers) {
    World w;
    w.config.limits.per_device = {5, kHour};
    w.config.limits.per_phone = {5, 2 * kHour};
    DeviceState empty{};
    PhoneState no_phone{};
    EXPECT_LT(live_until(empty, w.config.limits), kT0);
    EXPECT_LT(live_until(no_phone, w.config.limits), kT0);

    Decision d = w.ask(kPhoneA);
    EXPECT_EQ(live_until(w.phone_a, w.config.limits), kT0 + 2 * kHour);
    // the device holds number A as long as A's entry lives, beyond its own hour
    EXPECT_EQ(live_until(w.device, w.config.limits), kT0 + 2 * kHour);
    std::memset(w.device.numbers, 0, sizeof w.device.numbers);
    EXPECT_EQ(live_until(w.device, w.config.limits), kT0 + kHour);

    record_outcome(w.device, &w.phone_a, d.flight, success("ABCD-1234", 120), w.now);
    Limits none;
    EXPECT_EQ(live_until(w.device, none), kT0 + 120 * kSecond);
    w.device.cooldown_until = kT0 + 500 * kSecond;
    EXPECT_EQ(live_until(w.device, none), kT0 + 500 * kSecond);
}

TEST(SecondsUntil, RoundsUpAndIsAtLeastOne) {
    EXPECT_EQ(seconds_until(kT0 + 1, kT0), 1);
    EXPECT_EQ(seconds_until(kT0 + 1000, kT0), 1);
    EXPECT_EQ(seconds_until(kT0 + 1001, kT0), 2);
    EXPECT_EQ(seconds_until(kT0, kT0), 1);
    EXPECT_EQ(seconds_until(kT0 - 5, kT0), 1);
}

TEST(State, AllZeroBytesAreTheEmptyState) {
    DeviceState device;
    std::memset(&device, 0, sizeof device);
    PhoneState phone;
    std::memset(&phone, 0, sizeof phone);
    PolicyConfig config;
    Decision d = decide(device, phone, kPhoneA, false, config, 1, kT0);
    EXPECT_EQ(d.verdict, Verdict::proceed);
    static_assert(std::is_trivially_copyable_v<DeviceState>);
    static_assert(std::is_trivially_copyable_v<PhoneState>);
    static_assert(std::is_standard_layout_v<DeviceState>);
}

TEST(State, ACorruptLogSizeIsNeverUsedAsAnIndex) {
    World w;
    w.config.limits.per_device = {2, kHour};
    w.device.calls.size = 1000;
    for (auto &at : w.device.calls.at) at = kT0;
    Decision d = w.ask(kPhoneA);
    EXPECT_EQ(d.verdict, Verdict::limited);
}

}  // namespace
}  // namespace wa_pair
