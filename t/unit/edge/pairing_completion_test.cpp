// Pairing completion in the policy core (policy.hpp): the linked state, events applied
// to a device, stale events, wa_pair_status's view, and its envelope (pairing_status.hpp).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "edge/pairing_status.hpp"
#include "edge/policy.hpp"

namespace wa_pair {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kT0 = 7'000'000;
constexpr std::int64_t kDay = 86400 * kSecond;

const PhoneHash kPhone = [] {
    ZoneKey key{};
    const std::optional<PhoneHash> h = hash_phone(key, "6281234567890");
    EXPECT_TRUE(h);
    return h.value_or(PhoneHash{});
}();

CallResult code_answer(const char *code, int seconds) {
    CallResult o{};
    o.status = 200;
    o.seconds = seconds;
    std::memcpy(o.code, code, std::strlen(code));
    return o;
}

EventChange change(DeviceEvent e, std::int64_t at_ms = 0) {
    EventChange c;
    c.event = e;
    c.linked_ms = kDay;
    c.at_ms = at_ms;
    return c;
}

EventChange new_code(const char *code, std::int64_t ms, std::int64_t at_ms = 0) {
    EventChange c = change(DeviceEvent::new_code, at_ms);
    std::memcpy(c.code, code, std::strlen(code));
    c.code_ms = ms;
    return c;
}

// A device that asked for a code at kT0 and got ABCD-1234 for 120 s.
struct Paired {
    PolicyConfig config;
    DeviceState device{};
    PhoneState phone{};
    std::int64_t now = kT0;

    Paired() {
        Decision d = decide(device, phone, kPhone, false, config, 1, now);
        EXPECT_EQ(d.verdict, Verdict::proceed);
        EXPECT_TRUE(record_outcome(device, &phone, 1, code_answer("ABCD-1234", 120), now));
    }

    Decision ask(bool refresh = false, std::uint64_t flight = 2) {
        return decide(device, phone, kPhone, refresh, config, flight, now);
    }
};

TEST(PairingCompletion, ALinkedDeviceIsAConflictWithoutACallEvenForARefresh) {
    Paired p;
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::linked), p.now), EventApplied::changed);
    EXPECT_EQ(p.ask().verdict, Verdict::linked);
    EXPECT_EQ(p.ask(true).verdict, Verdict::linked);
    EXPECT_EQ(p.device.flight, 0u);                                  // no call marked in flight
    EXPECT_EQ(p.device.code[0], '\0');                               // the code WhatsApp used is gone
    EXPECT_GE(live_until(p.device, p.config.limits), p.now + kDay);  // the entry stays as long
}

TEST(PairingCompletion, TheLinkLapsesAfterItsTtlAndTheEngineIsAskedAgain) {
    Paired p;
    EventChange c = change(DeviceEvent::linked);
    c.linked_ms = 5 * kSecond;
    apply_event(p.device, c, p.now);
    p.now += 5 * kSecond - 1;
    EXPECT_EQ(p.ask().verdict, Verdict::linked);
    p.now += 1;
    EXPECT_EQ(p.ask().verdict, Verdict::proceed);
    EXPECT_EQ(p.device.linked_until, 0);
}

TEST(PairingCompletion, LoggedOutEndsTheLinkAndTheNextRequestCalls) {
    Paired p;
    apply_event(p.device, change(DeviceEvent::linked), p.now);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::logged_out), p.now), EventApplied::changed);
    EXPECT_EQ(p.ask().verdict, Verdict::proceed);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::logged_out), p.now), EventApplied::unchanged);
}

TEST(PairingCompletion, PairErrorDropsTheLiveCodeButNeverALink) {
    Paired p;
    EXPECT_EQ(p.ask().verdict, Verdict::reuse);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::pair_failed), p.now), EventApplied::changed);
    EXPECT_EQ(p.ask().verdict, Verdict::proceed);  // not the dead code again

    Paired q;
    apply_event(q.device, change(DeviceEvent::linked), q.now);
    EXPECT_EQ(apply_event(q.device, change(DeviceEvent::pair_failed), q.now), EventApplied::unchanged);
    EXPECT_EQ(q.ask().verdict, Verdict::linked);
}

TEST(PairingCompletion, AStaleEventChangesNothingWhateverItSays) {
    Paired p;
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::linked, 2000), p.now), EventApplied::changed);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::pair_failed, 1000), p.now), EventApplied::stale);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::logged_out, 1999), p.now), EventApplied::stale);
    EXPECT_EQ(p.ask().verdict, Verdict::linked);
    // the same time again is not older: an engine may send two events in one millisecond
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::logged_out, 2000), p.now), EventApplied::changed);
    // events without a time are taken in the order they come
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::linked, 0), p.now), EventApplied::changed);
    EXPECT_EQ(p.device.event_at, 2000);
}

TEST(PairingCompletion, ANewCodeReplacesTheLiveCodeWithItsLifetimeRestarted) {
    Paired p;
    p.now += 100 * kSecond;  // 20 s left: not reused with the default 15 s margin for long
    EXPECT_EQ(apply_event(p.device, new_code("WXYZ-2345", 40 * kSecond), p.now), EventApplied::changed);
    Decision d = p.ask();
    ASSERT_EQ(d.verdict, Verdict::reuse);
    EXPECT_STREQ(d.code, "WXYZ-2345");
    EXPECT_EQ(d.seconds, 40);
    EXPECT_EQ(p.device.code_phone, kPhone);  // for the number the call named
}

TEST(PairingCompletion, ANewCodeNeverMakesACodeForADeviceThatAskedForNoneOrIsLinked) {
    DeviceState empty{};
    EXPECT_EQ(apply_event(empty, new_code("WXYZ-2345", 40 * kSecond), kT0), EventApplied::unchanged);
    EXPECT_EQ(empty.code[0], '\0');

    Paired p;
    apply_event(p.device, change(DeviceEvent::pair_failed), p.now);
    EXPECT_EQ(apply_event(p.device, new_code("WXYZ-2345", 40 * kSecond), p.now), EventApplied::unchanged);

    Paired q;
    apply_event(q.device, change(DeviceEvent::linked), q.now);
    EXPECT_EQ(apply_event(q.device, new_code("WXYZ-2345", 40 * kSecond), q.now), EventApplied::unchanged);

    Paired r;  // a call in flight dropped the code: its own answer brings the next one
    EXPECT_EQ(r.ask(true).verdict, Verdict::proceed);
    EXPECT_EQ(apply_event(r.device, new_code("WXYZ-2345", 40 * kSecond), r.now), EventApplied::unchanged);
}

TEST(PairingCompletion, NotLinkedEndsALinkAndKeepsTheLiveCode) {
    Paired p;
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::not_linked), p.now), EventApplied::unchanged);
    EXPECT_EQ(p.ask().verdict, Verdict::reuse);
    apply_event(p.device, change(DeviceEvent::linked), p.now);
    EXPECT_EQ(apply_event(p.device, change(DeviceEvent::not_linked), p.now), EventApplied::changed);
    EXPECT_EQ(p.ask().verdict, Verdict::proceed);
}

TEST(PairingCompletion, ACallAnsweredAfterTheDeviceLinkedLeavesNoCode) {
    Paired p;
    EXPECT_EQ(p.ask(true).verdict, Verdict::proceed);  // a refresh in flight
    apply_event(p.device, change(DeviceEvent::linked), p.now);
    EXPECT_TRUE(record_outcome(p.device, &p.phone, 2, code_answer("WXYZ-2345", 120), p.now));
    EXPECT_EQ(p.device.code[0], '\0');
    EXPECT_EQ(p.device.result.status, 200);  // its waiters still get its answer
}

TEST(PairingStatusView, NonePendingLinkedAndWhenTimeChangesThem) {
    DeviceState empty{};
    EXPECT_EQ(pairing_status(empty, kT0).state, PairingState::none);
    EXPECT_EQ(pairing_status(empty, kT0).changes_at, 0);

    Paired p;
    PairingStatus s = pairing_status(p.device, p.now + 500);
    EXPECT_EQ(s.state, PairingState::pending);
    EXPECT_EQ(s.seconds, 119);
    EXPECT_EQ(s.code_expires, kT0 + 120 * kSecond);
    EXPECT_EQ(s.changes_at, kT0 + 120 * kSecond - 999);
    EXPECT_EQ(pairing_status(p.device, s.changes_at - 1).state, PairingState::pending);
    EXPECT_EQ(pairing_status(p.device, s.changes_at - 1).seconds, 1);
    EXPECT_EQ(pairing_status(p.device, s.changes_at).state, PairingState::none);

    apply_event(p.device, change(DeviceEvent::linked), p.now);
    s = pairing_status(p.device, p.now);
    EXPECT_EQ(s.state, PairingState::linked);
    EXPECT_EQ(s.changes_at, p.now + kDay);
    EXPECT_EQ(pairing_status(p.device, p.now + kDay).state, PairingState::none);
}

TEST(PairingStatusView, AReplacedCodeIsAChangeForAWaiter) {
    Paired p;
    const PairingStatus before = pairing_status(p.device, p.now);
    EXPECT_FALSE(status_changed(before, pairing_status(p.device, p.now + 10 * kSecond)));
    apply_event(p.device, new_code("WXYZ-2345", 40 * kSecond), p.now + 10 * kSecond);
    EXPECT_TRUE(status_changed(before, pairing_status(p.device, p.now + 10 * kSecond)));
    EXPECT_TRUE(status_changed(PairingStatus{}, before));
}

TEST(StatusEnvelope, IsTheContractsShape) {
    PairingStatus s;
    EXPECT_EQ(status_envelope(s), R"({"status":true,"code":200,"message":"Pairing status","data":{"state":"none"}})");
    s.state = PairingState::pending;
    s.seconds = 87;
    EXPECT_EQ(status_envelope(s),
              R"({"status":true,"code":200,"message":"Pairing status","data":{"state":"pending","timeout":87}})");
    s.state = PairingState::linked;
    EXPECT_EQ(status_envelope(s), R"({"status":true,"code":200,"message":"Pairing status","data":{"state":"linked"}})");
}

TEST(WaitParameter, IsOneToSixtySecondsWrittenPlainly) {
    EXPECT_EQ(parse_wait_seconds("1"), 1);
    EXPECT_EQ(parse_wait_seconds("30"), 30);
    EXPECT_EQ(parse_wait_seconds("60"), 60);
    for (const char *bad : {"", "0", "61", "99", "100", "05", "5s", "+5", "-5", " 5", "5 ", "1e1", "%35"}) {
        EXPECT_EQ(parse_wait_seconds(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace wa_pair
