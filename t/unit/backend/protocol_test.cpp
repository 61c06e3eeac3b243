// What every protocol shares: names, default paths, the operator's headers, the query, and
// the outcome names of $wa_pair_outcome.
#include "engine_rows.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(ProtocolNames, RoundTrip) {
    const std::vector<std::pair<const char *, const char *>> names = {
        {"native", "/v1/pair-code"},      {"origin", "/devices/me/login-code"},
        {"gowa", "/app/login-with-code"}, {"waha", "/api/default/auth/request-code"},
        {"wuzapi", "/session/pairphone"}, {"evolution", "/instance/connect/default"},
    };
    for (const auto &[name, path] : names) {
        const std::optional<Protocol> p = parse_protocol(name);
        ASSERT_TRUE(p) << name;
        EXPECT_EQ(protocol_name(*p), name);
        EXPECT_EQ(default_path(*p), path);
    }
    for (const char *bad : {"", "GOWA", "Native", "go-wa", "evolution ", "waha2"}) {
        EXPECT_FALSE(parse_protocol(bad)) << bad;
    }
}

// What is left of an engine's code when the module answers (docs/engines.md, "Code
// lifetimes"): the timeout answered never says more, whatever the engine or
// wa_pair_code_timeout say.
TEST(ProtocolCodeLifetimes, CapTheTimeoutAnswered) {
    const std::vector<std::pair<Protocol, long>> caps = {
        {Protocol::native, 0}, {Protocol::origin, 150}, {Protocol::gowa, 80},
        {Protocol::waha, 80},  {Protocol::wuzapi, 80},  {Protocol::evolution, 15},
    };
    for (const auto &[protocol, cap] : caps) {
        EXPECT_EQ(max_code_seconds(protocol), cap) << protocol_name(protocol);
    }
    // a configured timeout under the cap is kept; above it, the cap is answered
    const std::string waha = R"({"code":"ABCD-EFGH"})";
    EXPECT_EQ(map_answer(Protocol::waha, 201, waha, "", 30).timeout, 30);
    EXPECT_EQ(map_answer(Protocol::waha, 201, waha, "", 600).timeout, 80);
    const std::string native = R"({"pair_code":"ABCD-EFGH","timeout":3600})";
    EXPECT_EQ(map_answer(Protocol::native, 200, native, "", 120).timeout, 3600);
}

TEST(WhatsmeowErrors, RecognisedByTheirOwnTexts) {
    // the engines' answers carrying them are in t/unit/protocol_<engine>_test.cpp
    const std::vector<std::pair<const char *, int>> texts = {
        {"info query returned status 429: rate-overlimit", 429},
        {"failed to request pairing code: info query returned status 429: rate-overlimit", 429},
        {"info query returned status 400: bad-request", 0},
        {"info query timed out", 504},
        {"context deadline exceeded", 504},
        {"websocket not connected", 503},
        {"websocket not connected yet", 0},
        {"", 0},
    };
    // Through wuzapi, which passes whatsmeow's text on as a 400's error.
    for (const auto &[text, code] : texts) {
        const std::string body = std::string(R"({"code":400,"error":")") + text + R"(","success":false})";
        const PairCode answer = map_answer(Protocol::wuzapi, 400, body, "", 90);
        EXPECT_EQ(answer.failure.code, code == 0 ? 400 : code) << text;
    }
}

TEST(OperatorHeaders, ReplaceTheAdaptersOfTheSameName) {
    BackendRequest request = build_request(Protocol::gowa, {"dev-42", "1234567", "", "t-1"});
    apply_operator_headers(
        request, {{"x-device-id", "gowa-device-7"}, {"Authorization", "Basic dXNlcjpzZWNyZXQ="}, {"X-Request-ID", ""}});
    EXPECT_EQ(header_lines(request), (Lines{"Accept: application/json", "x-device-id: gowa-device-7",
                                            "Authorization: Basic dXNlcjpzZWNyZXQ="}));
}

TEST(OperatorHeaders, TheOperatorMayOverrideTheOriginsAuthorization) {
    BackendRequest request = build_request(Protocol::origin, {"d", "1234567", "Bearer a.b.c", ""});
    apply_operator_headers(request, {{"AUTHORIZATION", "Bearer other"}});
    EXPECT_EQ(header_lines(request),
              (Lines{"Content-Type: application/json", "Accept: application/json", "AUTHORIZATION: Bearer other"}));
}

TEST(OperatorHeaders, RepeatedNamesAreAllSent) {
    BackendRequest request = build_request(Protocol::waha, {"d", "1234567", "", ""});
    apply_operator_headers(request, {{"X-Api-Key", "k1"}, {"X-Api-Key", "k2"}});
    EXPECT_EQ(header_lines(request),
              (Lines{"Content-Type: application/json", "Accept: application/json", "X-Api-Key: k1", "X-Api-Key: k2"}));
}

TEST(AppendQuery, KeepsTheUrlsOwnQuery) {
    EXPECT_EQ(append_query("http://localhost/app/login-with-code", "phone=1"),
              "http://localhost/app/login-with-code?phone=1");
    EXPECT_EQ(append_query("http://localhost/x?a=b", "phone=1"), "http://localhost/x?a=b&phone=1");
    EXPECT_EQ(append_query("http://localhost/x?", "phone=1"), "http://localhost/x?phone=1");
    EXPECT_EQ(append_query("http://localhost/x?a=b&", "phone=1"), "http://localhost/x?a=b&phone=1");
    EXPECT_EQ(append_query("http://localhost/x", ""), "http://localhost/x");
}

TEST(Outcomes, NamesAndStatuses) {
    EXPECT_EQ(outcome_name(Outcome::none), "");
    EXPECT_EQ(outcome_name(Outcome::ok), "ok");
    EXPECT_EQ(outcome_name(Outcome::bad_backend_answer), "bad_backend_answer");
    EXPECT_EQ(outcome_name(Outcome::client_closed), "client_closed");
    const std::vector<std::pair<int, Outcome>> statuses = {
        {200, Outcome::ok},
        {400, Outcome::bad_request},
        {401, Outcome::unauthorized},
        {405, Outcome::method_not_allowed},
        {408, Outcome::request_timeout},
        {409, Outcome::already_logged_in},
        {413, Outcome::payload_too_large},
        {414, Outcome::bad_request},
        {415, Outcome::unsupported_media_type},
        {429, Outcome::rate_limited},
        {499, Outcome::client_closed},
        {500, Outcome::internal_error},
        {502, Outcome::bad_backend_answer},
        {503, Outcome::backend_unavailable},
        {504, Outcome::backend_timeout},
    };
    for (const auto &[status, outcome] : statuses) {
        EXPECT_EQ(outcome_for_status(status), outcome) << status;
    }
}

TEST(Outcomes, AFinishedRequestKeepsItsRecordedOutcomeElseItsErrorStatusTells) {
    EXPECT_EQ(final_outcome(Outcome::backend_failed, 500), Outcome::backend_failed);
    EXPECT_EQ(final_outcome(Outcome::ok, 499), Outcome::ok) << "answered, then the client left";
    EXPECT_EQ(final_outcome(Outcome::none, 499), Outcome::client_closed);
    EXPECT_EQ(final_outcome(Outcome::none, 408), Outcome::request_timeout);
    EXPECT_EQ(final_outcome(Outcome::none, 200), Outcome::none);
    EXPECT_EQ(final_outcome(Outcome::none, 0), Outcome::none);
    EXPECT_EQ(outcome_name(static_cast<Outcome>(kOutcomeCount - 1)), "client_closed")
        << "kOutcomeCount counts every outcome";
}

}  // namespace
}  // namespace wa_pair
