// wa_pair_session_start's core (src/backend/session.hpp): the targets and requests of each engine's
// start and readiness calls, one start per device, code lifetimes that count the time seen
// pass, and the exchange from a "not started" answer to a code, engine by engine, as each
// engine's code answers (docs/engines.md, "Starting a session").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backend/session.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Kind = Next::Kind;
using Lines = std::vector<std::string>;

Lines header_lines(const BackendRequest &request) {
    Lines lines;
    for (const Header &h : request.headers) lines.push_back(h.name + ": " + h.value);
    return lines;
}

// ---------------------------------------------------------------- targets

struct TargetRow {
    const char *name;
    Protocol protocol;
    const char *pairing;
    const char *start;  // "" none
    const char *ready;  // "" none
    bool ok;
};

class SessionTargetsTable : public testing::TestWithParam<TargetRow> {};

TEST_P(SessionTargetsTable, FromThePairingPath) {
    const TargetRow &row = GetParam();
    const SessionTargets t = session_targets(row.protocol, row.pairing);
    EXPECT_EQ(t.error.empty(), row.ok) << t.error;
    if (row.ok) {
        EXPECT_EQ(t.start, row.start);
        EXPECT_EQ(t.ready, row.ready);
    }
}

const TargetRow kTargets[] = {
    {"waha_default", Protocol::waha, "/api/default/auth/request-code", "/api/sessions/default/start",
     "/api/sessions/default", true},
    {"waha_escaped_session", Protocol::waha, "/api/dev%2B1/auth/request-code", "/api/sessions/dev%2B1/start",
     "/api/sessions/dev%2B1", true},
    {"waha_behind_a_prefix_with_query", Protocol::waha, "/waha/api/s1/auth/request-code?x=1",
     "/waha/api/sessions/s1/start?x=1", "/waha/api/sessions/s1?x=1", true},
    {"waha_no_session_segment", Protocol::waha, "/api//auth/request-code", "", "", false},
    {"waha_other_path", Protocol::waha, "/api/default/auth/qr", "", "", false},
    {"wuzapi", Protocol::wuzapi, "/session/pairphone", "/session/connect", "/session/qr", true},
    {"wuzapi_token_in_query", Protocol::wuzapi, "/w/session/pairphone?token=t", "/w/session/connect?token=t",
     "/w/session/qr?token=t", true},
    {"wuzapi_other_path", Protocol::wuzapi, "/session/pair", "", "", false},
    {"gowa", Protocol::gowa, "/app/login-with-code", "/devices", "", true},
    {"gowa_base_path", Protocol::gowa, "/gowa/app/login-with-code", "/gowa/devices", "", true},
    {"gowa_other_path", Protocol::gowa, "/app/login", "", "", false},
    {"evolution", Protocol::evolution, "/instance/connect/dev-42", "", "/instance/connectionState/dev-42", true},
    {"evolution_with_query", Protocol::evolution, "/e/instance/connect/x?source=edge", "",
     "/e/instance/connectionState/x?source=edge", true},
    {"evolution_no_instance", Protocol::evolution, "/instance/connect/", "", "", false},
    {"native_has_no_session", Protocol::native, "/v1/pair-code", "", "", false},
    {"origin_has_no_session", Protocol::origin, "/devices/me/login-code", "", "", false},
};

INSTANTIATE_TEST_SUITE_P(Table, SessionTargetsTable, testing::ValuesIn(kTargets), RowName());

TEST(SessionStart, CheckedAtNginxT) {
    EXPECT_EQ(check_session_backend(Protocol::waha, "http://127.0.0.1:3000"), "");
    EXPECT_EQ(
        check_session_backend(Protocol::waha, "http://unix:/run/w.sock:/api/$wa_pair_device_id/auth/request-code"), "");
    EXPECT_EQ(check_session_backend(Protocol::waha,
                                    "http://127.0.0.1:3000/api/${wa_pair_device_id}/auth/request-code?k=$arg_k"),
              "");
    EXPECT_NE(check_session_backend(Protocol::waha, "http://127.0.0.1:3000/api/default/auth/qr"), "");
    EXPECT_NE(check_session_backend(Protocol::wuzapi, "http://127.0.0.1:8080/pair"), "");
    EXPECT_EQ(check_session_backend(Protocol::wuzapi, "http://127.0.0.1:8080"), "");
    EXPECT_EQ(check_session_backend(Protocol::gowa, "http://$gowa_host/gowa/app/login-with-code"), "");
    EXPECT_NE(check_session_backend(Protocol::gowa, "http://127.0.0.1:3000/gowa/app/login"), "");
    EXPECT_EQ(check_session_backend(Protocol::evolution, "http://127.0.0.1:8081/instance/connect/$wa_pair_device_id"),
              "");
    EXPECT_NE(check_session_backend(Protocol::evolution, "http://127.0.0.1:8081/instance/state/x"), "");
    EXPECT_NE(check_session_backend(Protocol::native, "http://127.0.0.1:8081"), "");
    // a variable standing for the whole path, or a value that does not parse: left to the request
    EXPECT_EQ(check_session_backend(Protocol::waha, "http://127.0.0.1:3000$waha_path"), "");
    EXPECT_EQ(check_session_backend(Protocol::waha, "ftp://x"), "");
}

TEST(SessionStart, SupportedEngines) {
    EXPECT_FALSE(session_start_supported(Protocol::native));
    EXPECT_FALSE(session_start_supported(Protocol::origin));
    EXPECT_TRUE(session_start_supported(Protocol::gowa));
    EXPECT_TRUE(session_start_supported(Protocol::waha));
    EXPECT_TRUE(session_start_supported(Protocol::wuzapi));
    EXPECT_TRUE(session_start_supported(Protocol::evolution));
}

// ---------------------------------------------------------------- requests

TEST(SessionRequests, EachEnginesStartAndReadiness) {
    const RequestInput in{"dev \"42\"", "6281234567890", "Bearer x.y.z", "rid-1"};

    const BackendRequest waha_start = build_step_request(Protocol::waha, Step::start, in);
    EXPECT_TRUE(waha_start.post);
    EXPECT_EQ(waha_start.body, "");
    EXPECT_EQ(header_lines(waha_start),
              (Lines{"Content-Type: application/json", "Accept: application/json", "X-Request-ID: rid-1"}));
    const BackendRequest waha_ready = build_step_request(Protocol::waha, Step::ready, in);
    EXPECT_FALSE(waha_ready.post);
    EXPECT_EQ(header_lines(waha_ready), (Lines{"Accept: application/json", "X-Request-ID: rid-1"}));

    const BackendRequest wuzapi_start = build_step_request(Protocol::wuzapi, Step::start, in);
    EXPECT_TRUE(wuzapi_start.post);
    EXPECT_EQ(wuzapi_start.body, R"({"Subscribe":["All"],"Immediate":true})");
    EXPECT_FALSE(build_step_request(Protocol::wuzapi, Step::ready, in).post);

    // GoWA's device id: the token's, JSON-escaped (no X-Device-Id: /devices is not per device)
    const BackendRequest gowa_start = build_step_request(Protocol::gowa, Step::start, in);
    EXPECT_TRUE(gowa_start.post);
    EXPECT_EQ(gowa_start.body, R"({"device_id":"dev \"42\""})");
    EXPECT_EQ(header_lines(gowa_start),
              (Lines{"Content-Type: application/json", "Accept: application/json", "X-Request-ID: rid-1"}));

    const BackendRequest evolution_ready = build_step_request(Protocol::evolution, Step::ready, in);
    EXPECT_FALSE(evolution_ready.post);
    EXPECT_EQ(evolution_ready.query, "");
    // Evolution's QR state is read with the pairing call itself
    const BackendRequest evolution_read = build_step_request(Protocol::evolution, Step::read, in);
    EXPECT_EQ(evolution_read.query, "number=6281234567890");
    EXPECT_EQ(build_step_request(Protocol::gowa, Step::pair, in).query, "phone=6281234567890");
}

// ---------------------------------------------------------------- one start per device

TEST(SessionClaims, OnePerWindow) {
    std::int64_t last = 0;
    StartClaim claim = claim_start(last, 1000, 100000);
    EXPECT_TRUE(claim.granted);
    EXPECT_EQ(claim.retry_at, 0);
    EXPECT_EQ(last, 1000);
    claim = claim_start(last, 50000, 100000);
    EXPECT_FALSE(claim.granted);
    EXPECT_EQ(claim.retry_at, 101000);
    EXPECT_EQ(last, 1000);
    EXPECT_FALSE(claim_start(last, 100999, 100000).granted);
    EXPECT_TRUE(claim_start(last, 101000, 100000).granted);
    EXPECT_EQ(last, 101000);
    // a record from the future (another worker's clock read later) does not block for ever
    last = 500000;
    EXPECT_TRUE(claim_start(last, 400000, 100000).granted);
}

TEST(SessionClaims, PerWorkerLogIsPerDeviceAndBounded) {
    StartLog log(2);
    EXPECT_TRUE(log.claim("a", 1000, 10000).granted);
    StartClaim claim = log.claim("a", 2000, 10000);
    EXPECT_FALSE(claim.granted);
    EXPECT_EQ(claim.retry_at, 11000);
    EXPECT_TRUE(log.claim("b", 2000, 10000).granted);
    // full of records inside the window: refused until the first lapses
    claim = log.claim("c", 3000, 10000);
    EXPECT_FALSE(claim.granted);
    EXPECT_EQ(claim.retry_at, 11000);
    EXPECT_EQ(log.size(), 2u);
    // once they lapse, they make room
    EXPECT_TRUE(log.claim("c", 11500, 10000).granted);
    EXPECT_LE(log.size(), 2u);
    EXPECT_FALSE(log.claim("a", 11500, 10000).granted);  // "b" holds its place until 12000
    EXPECT_TRUE(log.claim("a", 12000, 10000).granted);
}

// ---------------------------------------------------------------- code lifetimes

TEST(SessionLifetimes, CountTheTimeSeenPass) {
    // unknown age: the mapped value as it is
    EXPECT_EQ(code_seconds(Protocol::wuzapi, 80, 120, -1), 80);
    // origin connects inside the call: 160 s less the call's duration, never more than mapped
    EXPECT_EQ(code_seconds(Protocol::origin, 150, 120, 11001), 148);
    EXPECT_EQ(code_seconds(Protocol::origin, 150, 120, 2000), 150);
    EXPECT_EQ(code_seconds(Protocol::origin, 120, 120, 90000), 70);
    // after the module's own start: the configured timeout instead of the 80 s cap
    EXPECT_EQ(code_seconds(Protocol::wuzapi, 80, 120, 3500), 120);
    EXPECT_EQ(code_seconds(Protocol::waha, 80, 300, 3500), 156);
    EXPECT_EQ(code_seconds(Protocol::gowa, 80, 120, 45000), 115);
    // Evolution's codes are its QR's, native's the engine's: as mapped
    EXPECT_EQ(code_seconds(Protocol::evolution, 15, 120, 1000), 15);
    EXPECT_EQ(code_seconds(Protocol::native, 300, 120, 1000), 300);
    // nothing left
    EXPECT_EQ(code_seconds(Protocol::origin, 150, 120, 160000), 0);
    EXPECT_EQ(code_seconds(Protocol::wuzapi, 80, 120, 200000), 0);
}

// ---------------------------------------------------------------- the exchange

constexpr long kConfigured = 120;

struct Driver {
    SessionExchange x;
    std::int64_t now;
    Next next;
    Lines calls;  // the steps called, in order

    Driver(Protocol protocol, bool start, std::int64_t budget = 100000)
        : x(ExchangeConfig{protocol, start, budget, kConfigured}, 1000), now(1000) {
        calls.push_back(std::string(step_name(x.step())));
    }

    // The current call answers after `ms`.
    Next &answer(long status, const std::string &body, std::int64_t ms = 20, const char *retry_after = "") {
        const std::int64_t started = now;
        now += ms;
        next = x.on_answer(status, body, retry_after, started, now);
        record();
        return next;
    }
    Next &claim(bool granted, std::int64_t retry_at = 0) {
        next = x.on_claim(granted, retry_at, now);
        record();
        return next;
    }
    Next &wake() {
        EXPECT_EQ(next.kind, Kind::wait);
        now += next.delay_ms;
        next = x.on_wake(now);
        record();
        return next;
    }
    void record() {
        if (next.kind == Kind::call) calls.push_back(std::string(step_name(next.step)));
    }
};

std::string nest(int status, const std::string &message) {
    return R"({"message":")" + message + R"(","error":"x","statusCode":)" + std::to_string(status) + "}";
}
const std::string kWahaNotRunning =
    nest(404,
         "We didn't find a session with name 'dev-42'.\\nPlease start it first by using POST "
         "/api/sessions/dev-42/start request");
const std::string kWahaStarting =
    nest(422, "Can request code only in SCAN_QR_CODE status. The current status is STARTING");
std::string waha_status(const char *status) {
    return std::string(R"({"name":"dev-42","status":")") + status + R"(","config":null,"me":null})";
}
const std::string kWahaCode = R"({"code":"ABCD-EFGH"})";

TEST(SessionExchangeWaha, WithoutSessionStartANotRunningSessionIsTodays503) {
    Driver d(Protocol::waha, false);
    const Next &n = d.answer(404, kWahaNotRunning);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_FALSE(n.answer.has_retry_after);
    EXPECT_EQ(n.answer.log_level, LogLevel::warn);
    EXPECT_EQ(d.calls, (Lines{"pairing"}));
}

TEST(SessionExchangeWaha, StartsWaitsForScanQrCodeThenPairs) {
    Driver d(Protocol::waha, true);
    ASSERT_EQ(d.answer(404, kWahaNotRunning).kind, Kind::claim);
    ASSERT_EQ(d.claim(true).kind, Kind::call);
    EXPECT_EQ(d.next.step, Step::start);
    EXPECT_TRUE(d.x.started());
    ASSERT_EQ(d.answer(201, waha_status("STARTING"), 30).kind, Kind::wait);
    EXPECT_EQ(d.next.delay_ms, SessionExchange::kReadyPollMs);
    ASSERT_EQ(d.wake().kind, Kind::call);
    ASSERT_EQ(d.answer(200, waha_status("STARTING")).kind, Kind::wait);
    d.wake();
    ASSERT_EQ(d.answer(200, waha_status("SCAN_QR_CODE")).kind, Kind::call);
    EXPECT_EQ(d.next.step, Step::pair);
    const Next &n = d.answer(201, kWahaCode, 200);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.code, "ABCD-EFGH");
    // a session the module started now: wa_pair_code_timeout, within 160 s of the start
    EXPECT_EQ(n.answer.timeout, kConfigured);
    EXPECT_EQ(d.calls, (Lines{"pairing", "start", "readiness", "readiness", "pairing"}));
}

TEST(SessionExchangeWaha, ARefusedClaimIsA503WithTheUsualRetryAfter) {
    Driver d(Protocol::waha, true);
    d.answer(404, kWahaNotRunning);
    const Next &n = d.claim(false, d.now + 42500);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_TRUE(n.answer.has_retry_after);
    EXPECT_EQ(n.answer.retry_after, 5);  // the other request's start is likely ready by then
    EXPECT_EQ(n.answer.log_level, LogLevel::warn);
    EXPECT_FALSE(d.x.started());

    Driver late(Protocol::waha, true);
    late.answer(404, kWahaNotRunning);
    EXPECT_EQ(late.claim(false, late.now + 2500).answer.retry_after, 3);  // the window's end
}

TEST(SessionExchangeWaha, AlreadyStartedGoesOnWithTheUsualCap) {
    Driver d(Protocol::waha, true);
    d.answer(404, kWahaNotRunning);
    d.claim(true);
    ASSERT_EQ(d.answer(422, nest(422, "Session 'dev-42' is already started.")).kind, Kind::wait);
    d.wake();
    d.answer(200, waha_status("SCAN_QR_CODE"));
    const Next &n = d.answer(201, kWahaCode);
    EXPECT_EQ(n.answer.code, "ABCD-EFGH");
    EXPECT_EQ(n.answer.timeout, 80);  // not the module's start: its connection's age is unknown
}

TEST(SessionExchangeWaha, StartFailures) {
    {
        Driver d(Protocol::waha, true);
        d.answer(404, kWahaNotRunning);
        d.claim(true);
        const Next &n = d.answer(404, nest(404, "Session not found"));
        EXPECT_EQ(n.answer.failure.code, 503);
        EXPECT_EQ(n.answer.log_level, LogLevel::warn);
    }
    {
        Driver d(Protocol::waha, true);
        d.answer(404, kWahaNotRunning);
        d.claim(true);
        EXPECT_EQ(d.answer(401, R"({"message":"Unauthorized","statusCode":401})").answer.outcome,
                  Outcome::backend_auth_failed);
    }
    {
        Driver d(Protocol::waha, true);
        d.answer(404, kWahaNotRunning);
        d.claim(true);
        d.answer(201, waha_status("STARTING"));
        d.wake();
        const Next &n = d.answer(200, waha_status("FAILED"));
        ASSERT_EQ(n.kind, Kind::answer);
        EXPECT_EQ(n.answer.failure.code, 503);
        EXPECT_FALSE(n.answer.has_retry_after);
        EXPECT_EQ(n.answer.log_level, LogLevel::warn);
    }
}

TEST(SessionExchangeWaha, ReadinessThatNeverComesEndsWithinTheBudget) {
    Driver d(Protocol::waha, true, 5000);
    d.answer(404, kWahaNotRunning);
    d.claim(true);
    d.answer(201, waha_status("STARTING"));
    int polls = 0;
    while (d.next.kind == Kind::wait) {
        d.wake();
        ASSERT_EQ(d.next.kind, Kind::call);
        d.answer(200, waha_status("STARTING"));
        ASSERT_LT(++polls, 100);
    }
    ASSERT_EQ(d.next.kind, Kind::answer);
    EXPECT_EQ(d.next.answer.failure.code, 504);
    EXPECT_EQ(d.next.answer.outcome, Outcome::backend_timeout);
    EXPECT_LE(d.now, 1000 + 5000);
    EXPECT_GE(polls, 5);
}

TEST(SessionExchangeWaha, StartingWaitsWithoutAStart) {
    Driver d(Protocol::waha, true);
    ASSERT_EQ(d.answer(422, kWahaStarting).kind, Kind::wait);
    d.wake();
    d.answer(200, waha_status("SCAN_QR_CODE"));
    EXPECT_EQ(d.answer(201, kWahaCode).answer.code, "ABCD-EFGH");
    EXPECT_FALSE(d.x.started());
    EXPECT_EQ(d.calls, (Lines{"pairing", "readiness", "pairing"}));
}

TEST(SessionExchangeWaha, OneStartPerExchangeAndNoEndlessPairing) {
    // started, ready, and then the engine says "not started" again: today's answer, no claim
    Driver d(Protocol::waha, true);
    d.answer(404, kWahaNotRunning);
    d.claim(true);
    d.answer(201, waha_status("STARTING"));
    d.wake();
    d.answer(200, waha_status("SCAN_QR_CODE"));
    const Next &n = d.answer(404, kWahaNotRunning);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);

    // STARTING at every pairing call: at most kMaxPairCalls of them
    Driver e(Protocol::waha, true);
    int rounds = 0;
    e.answer(422, kWahaStarting);
    while (e.next.kind != Kind::answer && rounds++ < 20) {
        if (e.next.kind == Kind::wait) e.wake();
        if (e.next.kind == Kind::call && e.next.step == Step::ready) e.answer(200, waha_status("SCAN_QR_CODE"));
        if (e.next.kind == Kind::call && e.next.step == Step::pair) e.answer(422, kWahaStarting);
    }
    ASSERT_EQ(e.next.kind, Kind::answer);
    EXPECT_EQ(e.next.answer.failure.code, 503);
    int pairs = 0;
    for (const std::string &c : e.calls) pairs += c == "pairing";
    EXPECT_EQ(pairs, SessionExchange::kMaxPairCalls);
}

const std::string kNoSession = R"({"code":500,"error":"No session","success":false})";

TEST(SessionExchangeWuzapi, ConnectsWaitsForTheFirstQrThenPairs) {
    Driver d(Protocol::wuzapi, true);
    ASSERT_EQ(d.answer(500, kNoSession).kind, Kind::claim);
    d.claim(true);
    ASSERT_EQ(
        d.answer(200,
                 R"({"code":200,"data":{"details":"Connected!","events":"All","jid":"","webhook":""},"success":true})")
            .kind,
        Kind::wait);
    d.wake();
    ASSERT_EQ(d.answer(500, R"({"code":500,"error":"Not connected","success":false})").kind, Kind::wait);
    d.wake();
    ASSERT_EQ(d.answer(200, R"({"code":200,"data":{"QRCode":""},"success":true})").kind, Kind::wait);
    d.wake();
    ASSERT_EQ(d.answer(200, R"({"code":200,"data":{"QRCode":"data:image/png;base64,AAAA"},"success":true})").kind,
              Kind::call);
    const Next &n = d.answer(200, R"({"code":200,"data":{"LinkingCode":"9H3J-H3J8"},"success":true})");
    EXPECT_EQ(n.answer.code, "9H3J-H3J8");
    EXPECT_EQ(n.answer.timeout, kConfigured);
    EXPECT_EQ(d.calls, (Lines{"pairing", "start", "readiness", "readiness", "readiness", "pairing"}));
}

TEST(SessionExchangeWuzapi, AlreadyConnectedAndLoggedIn) {
    Driver d(Protocol::wuzapi, true);
    d.answer(500, kNoSession);
    d.claim(true);
    ASSERT_EQ(d.answer(500, R"({"code":500,"error":"Already Connected","success":false})").kind, Kind::wait);
    d.wake();
    ASSERT_EQ(d.answer(500, R"({"code":500,"error":"Already Loggedin","success":false})").kind, Kind::call);
    const Next &n = d.answer(400, R"({"code":400,"error":"Already paired","success":false})");
    EXPECT_EQ(n.answer.failure.code, 409);
}

TEST(SessionExchangeWuzapi, WithoutSessionStartNoSessionIsTodays503) {
    Driver d(Protocol::wuzapi, false);
    const Next &n = d.answer(500, kNoSession);
    EXPECT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_FALSE(n.answer.has_retry_after);
}

const std::string kNoDevice =
    R"({"code":"DEVICE_NOT_FOUND","message":"device not found","results":{"device_id":"dev-42"}})";

TEST(SessionExchangeGowa, CreatesTheDeviceThenPairsAtOnce) {
    Driver d(Protocol::gowa, true);
    ASSERT_EQ(d.answer(404, kNoDevice).kind, Kind::claim);
    d.claim(true);
    ASSERT_EQ(d.answer(200, R"({"code":"SUCCESS","message":"Device added","results":{"id":"dev-42"}})").kind,
              Kind::call);
    EXPECT_EQ(d.next.step, Step::pair);
    const Next &n = d.answer(
        200,
        R"({"code":"SUCCESS","message":"Login with code success","results":{"device_id":"dev-42","pair_code":"ABCD-EFGH"}})",
        1500);
    EXPECT_EQ(n.answer.code, "ABCD-EFGH");
    EXPECT_EQ(n.answer.timeout, kConfigured);
    EXPECT_EQ(d.calls, (Lines{"pairing", "start", "pairing"}));
}

TEST(SessionExchangeGowa, ADeviceThatExistsAlready) {
    Driver d(Protocol::gowa, true);
    d.answer(404, kNoDevice);
    d.claim(true);
    ASSERT_EQ(d.answer(500, R"({"code":"INTERNAL_SERVER_ERROR","message":"device dev-42 already exists"})").kind,
              Kind::call);
    const Next &n = d.answer(
        200,
        R"({"code":"SUCCESS","message":"Login with code success","results":{"device_id":"dev-42","pair_code":"ABCD-EFGH"}})");
    EXPECT_EQ(n.answer.timeout, 80);
    Driver e(Protocol::gowa, true);
    e.answer(404, kNoDevice);
    e.claim(true);
    EXPECT_EQ(e.answer(500, R"({"code":"INTERNAL_SERVER_ERROR","message":"database is locked"})").answer.failure.code,
              500);
}

const std::string kStale =
    R"({"pairingCode":"PREV2345","code":"2@old","base64":"data:image/png;base64,b2xk","count":7})";

TEST(SessionExchangeEvolution, TheCloseBranchIsNeverACodeWithoutSessionStart) {
    Driver d(Protocol::evolution, false);
    const Next &n = d.answer(200, kStale, 2003);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_TRUE(n.answer.has_retry_after);
    EXPECT_EQ(n.answer.retry_after, 5);
    // the same answer read at once (state "connecting") is the code of the moment
    Driver e(Protocol::evolution, false);
    EXPECT_EQ(e.answer(200, kStale, 30).answer.code, "PREV-2345");
}

TEST(SessionExchangeEvolution, WaitsForTheNewConnectionsQr) {
    Driver d(Protocol::evolution, true);
    ASSERT_EQ(d.answer(200, kStale, 2010).kind, Kind::wait);
    EXPECT_TRUE(d.x.started());
    d.wake();
    ASSERT_EQ(d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})").kind, Kind::call);
    EXPECT_EQ(d.next.step, Step::read);
    // the QR came (count + 1) but its pairing code is on its way: still the old state
    ASSERT_EQ(d.answer(200, R"({"pairingCode":"PREV2345","code":"2@old","base64":"b","count":8})").kind, Kind::wait);
    d.wake();
    d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})");
    const Next &n = d.answer(200, R"({"pairingCode":"NEWC2345","code":"2@new","base64":"c","count":8})");
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.code, "NEWC-2345");
    EXPECT_EQ(n.answer.timeout, 15);
    EXPECT_EQ(d.calls, (Lines{"pairing", "readiness", "QR state", "readiness", "QR state"}));
}

TEST(SessionExchangeEvolution, AFreshInstanceHasNothingStale) {
    Driver d(Protocol::evolution, true);
    ASSERT_EQ(d.answer(200, R"({"count":0})", 2001).kind, Kind::wait);
    d.wake();
    d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})");
    // the pairing code set, its QR not yet: one more read
    ASSERT_EQ(d.answer(200, R"({"pairingCode":"NEWC2345","count":1})").kind, Kind::wait);
    d.wake();
    d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})");
    EXPECT_EQ(d.answer(200, R"({"pairingCode":"NEWC2345","code":"2@n","count":1})").answer.code, "NEWC-2345");
}

TEST(SessionExchangeEvolution, ConnectingWithoutACodeWaitsWithSessionStart) {
    Driver d(Protocol::evolution, true);
    ASSERT_EQ(d.answer(200, R"({"pairingCode":null,"count":0})", 40).kind, Kind::wait);
    EXPECT_FALSE(d.x.started());
    Driver e(Protocol::evolution, false);
    const Next &n = e.answer(200, R"({"pairingCode":null,"count":0})", 40);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_TRUE(n.answer.has_retry_after);
}

TEST(SessionExchangeEvolution, StatesAfterTheStart) {
    for (const auto &[state, code] :
         std::vector<std::pair<const char *, int>>{{"open", 409}, {"close", 503}, {"refused", 502}}) {
        Driver d(Protocol::evolution, true);
        d.answer(200, kStale, 2500);
        d.wake();
        const Next &n =
            d.answer(200, std::string(R"({"instance":{"instanceName":"dev-42","state":")") + state + "\"}}");
        ASSERT_EQ(n.kind, Kind::answer) << state;
        EXPECT_EQ(n.answer.failure.code, code) << state;
    }
    // a read that took the close branch again: no code, and no more reads
    Driver d(Protocol::evolution, true);
    d.answer(200, kStale, 2500);
    d.wake();
    d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})");
    const Next &n = d.answer(200, R"({"pairingCode":"NEWC2345","code":"2@new","count":8})", 2100);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_EQ(n.answer.log_level, LogLevel::warn);
}

// ---------------------------------------------------------------- Evolution's known connection

PhoneHash number_of(std::uint8_t n) {
    PhoneHash h{};
    h.fill(n);
    return h;
}

// The connection a close branch started, as the glue remembers it.
EvolutionConnection started_by(Driver &d) {
    const EvolutionConnection *c = d.x.started_connection();
    EXPECT_NE(c, nullptr);
    return c != nullptr ? *c : EvolutionConnection{};
}

TEST(EvolutionConnection, TheCloseBranchSaysWhatItStarted) {
    Driver d(Protocol::evolution, false);
    d.x.know_connection(EvolutionConnection{}, number_of(1));
    EXPECT_EQ(d.answer(200, kStale, 2003).answer.failure.code, 503);
    const EvolutionConnection c = started_by(d);
    EXPECT_EQ(c.since, d.now);
    EXPECT_EQ(c.number, number_of(1));
    EXPECT_STREQ(c.stale.data(), "PREV-2345");
    // a fresh instance's close branch leaves nothing stale
    Driver e(Protocol::evolution, false);
    e.x.know_connection(EvolutionConnection{}, number_of(1));
    e.answer(200, R"({"count":0})", 2003);
    EXPECT_STREQ(started_by(e).stale.data(), "");
    // an answer at once starts nothing; without the number nothing is remembered
    Driver f(Protocol::evolution, false);
    f.x.know_connection(EvolutionConnection{}, number_of(1));
    f.answer(200, kStale, 30);
    EXPECT_EQ(f.x.started_connection(), nullptr);
    Driver g(Protocol::evolution, false);
    g.answer(200, kStale, 2003);
    EXPECT_EQ(g.x.started_connection(), nullptr);
}

TEST(EvolutionConnection, ThePreviousConnectionsCodeIsNeverAnswered) {
    Driver d(Protocol::evolution, false);
    d.x.know_connection(EvolutionConnection{}, number_of(1));
    d.answer(200, kStale, 2003);
    const EvolutionConnection known = started_by(d);
    // the client's retry, at once: the instance is connecting, its QR state still the old one
    Driver retry(Protocol::evolution, false);
    retry.now = d.now + 5000;
    retry.x.know_connection(known, number_of(1));
    const Next &n = retry.answer(200, kStale, 30);
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.failure.code, 503);
    EXPECT_TRUE(n.answer.has_retry_after);
    EXPECT_EQ(n.answer.outcome, Outcome::backend_not_ready);
    EXPECT_EQ(retry.x.started_connection(), nullptr);  // reading it started nothing
    // the new connection's first code: answered
    Driver later(Protocol::evolution, false);
    later.now = d.now + 9000;
    later.x.know_connection(known, number_of(1));
    const Next &m = later.answer(200, R"({"pairingCode":"NEWC2345","code":"2@new","count":8})", 30);
    EXPECT_FALSE(m.answer.failure);
    EXPECT_EQ(m.answer.code, "NEWC-2345");
    // the old code stays refused, however long after (it died with its connection)
    Driver much_later(Protocol::evolution, false);
    much_later.now = d.now + kEvolutionConnectionMs + 1000;
    much_later.x.know_connection(known, number_of(2));
    EXPECT_EQ(much_later.answer(200, kStale, 30).answer.failure.code, 503);
}

TEST(EvolutionConnection, AnotherNumbersConnectionIsA409) {
    EvolutionConnection known;
    known.since = 5000;
    known.number = number_of(1);
    const std::string fresh = R"({"pairingCode":"NEWC2345","code":"2@new","count":3})";
    Driver other(Protocol::evolution, false);
    other.now = 60000;
    other.x.know_connection(known, number_of(2));
    const Next &n = other.answer(200, fresh, 30);
    EXPECT_EQ(n.answer.failure.code, 409);
    EXPECT_EQ(n.answer.failure.error, "A pairing request for this device is already in progress");
    EXPECT_FALSE(n.answer.has_retry_after);
    // the connection's own number gets its code
    Driver same(Protocol::evolution, false);
    same.now = 60000;
    same.x.know_connection(known, number_of(1));
    EXPECT_EQ(same.answer(200, fresh, 30).answer.code, "NEWC-2345");
    // past Evolution's QR limit the connection has ended: nothing held against the number
    Driver after(Protocol::evolution, false);
    after.now = 5000 + kEvolutionConnectionMs;
    after.x.know_connection(known, number_of(2));
    EXPECT_EQ(after.answer(200, fresh, 30).answer.code, "NEWC-2345");
    // failures are the engine's, whatever is known
    Driver open(Protocol::evolution, false);
    open.now = 60000;
    open.x.know_connection(known, number_of(2));
    EXPECT_EQ(open.answer(200, R"({"instance":{"instanceName":"dev-42","state":"open"}})", 30).answer.failure.code,
              409);
    EXPECT_EQ(open.next.answer.outcome, Outcome::already_logged_in);
}

TEST(EvolutionConnection, AStartedExchangeJudgesByItsOwnConnection) {
    // the edge knew a connection for another number; this request's close branch replaced it
    EvolutionConnection before;
    before.since = 500;
    before.number = number_of(9);
    Driver d(Protocol::evolution, true);
    d.x.know_connection(before, number_of(1));
    ASSERT_EQ(d.answer(200, kStale, 2010).kind, Kind::wait);
    EXPECT_NE(d.x.started_connection(), nullptr);
    d.wake();
    d.answer(200, R"({"instance":{"instanceName":"dev-42","state":"connecting"}})");
    EXPECT_EQ(d.x.started_connection(), nullptr);  // to remember once, with the answer that started it
    const Next &n = d.answer(200, R"({"pairingCode":"NEWC2345","code":"2@new","count":8})");
    ASSERT_EQ(n.kind, Kind::answer);
    EXPECT_EQ(n.answer.code, "NEWC-2345");
}

TEST(EvolutionConnection, OtherProtocolsAreNotJudged) {
    EvolutionConnection known;
    known.since = 500;
    known.number = number_of(9);
    Driver d(Protocol::waha, false);
    d.x.know_connection(known, number_of(1));
    EXPECT_EQ(d.answer(200, R"({"code":"ABCD-EFGH"})").answer.code, "ABCD-EFGH");
}

TEST(EvolutionConnection, TheWorkersLogIsBounded) {
    ConnectionLog log(2);
    EvolutionConnection c;
    c.since = 1000;
    c.number = number_of(1);
    log.remember("a", c);
    c.since = 2000;
    log.remember("b", c);
    c.since = 3000;
    log.remember("c", c);  // the oldest ("a") goes
    EXPECT_EQ(log.size(), 2u);
    EXPECT_FALSE(log.find("a", 3000));
    ASSERT_TRUE(log.find("b", 3000));
    EXPECT_EQ(log.find("b", 3000)->since, 2000);
    log.remember("b", c);  // replaced in place
    EXPECT_EQ(log.find("b", 3000)->since, 3000);
    EXPECT_EQ(log.size(), 2u);
    EXPECT_FALSE(log.find("c", 3000 + kEvolutionConnectionMs));  // lapsed
}

TEST(SessionExchangeOrigin, ItsCodeLivesFromTheCallsStart) {
    Driver d(Protocol::origin, true);  // no session to start: the flag changes nothing
    const std::string ok = R"({"status":true,"code":200,"message":"x","data":{"PairCode":"ABCD-EFGH","Timeout":160}})";
    EXPECT_EQ(d.answer(200, ok, 12200).answer.timeout, 147);
    Driver e(Protocol::origin, false);
    EXPECT_EQ(e.answer(200, ok, 800).answer.timeout, 150);
}

TEST(SessionExchangeNative, Unchanged) {
    Driver d(Protocol::native, true);
    const Next &n = d.answer(200, R"({"pair_code":"ABCD-EFGH","timeout":3600})", 5000);
    EXPECT_EQ(n.answer.code, "ABCD-EFGH");
    EXPECT_EQ(n.answer.timeout, 3600);
    EXPECT_EQ(d.calls, (Lines{"pairing"}));
}

}  // namespace
}  // namespace wa_pair
