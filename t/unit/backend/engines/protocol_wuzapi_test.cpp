// wuzapi as the backend (docs/engines.md#wuzapi): the request and every documented answer.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(WuzapiRequest, PostsThePhone) {
    const BackendRequest request = build_request(Protocol::wuzapi, {"dev-42", "6281234567890", "Bearer x.y.z", "t-9"});
    EXPECT_TRUE(request.post);
    EXPECT_EQ(request.query, "");
    EXPECT_EQ(request.body, R"({"Phone":"6281234567890"})");
    EXPECT_EQ(header_lines(request),
              (Lines{"Content-Type: application/json", "Accept: application/json", "X-Request-ID: t-9"}));
}

class WuzapiAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(WuzapiAnswer, Maps) {
    check_engine_row(Protocol::wuzapi, GetParam());
}

const EngineRow kRows[] = {
    {"success", 200, "{\"code\":200,\"data\":{\"LinkingCode\":\"ABCD-EFGH\"},\"success\":true}\n", 200, "ABCD-EFGH",
     Outcome::ok, -1, 80},  // it pairs on the connection /session/connect opened
    {"success_false", 200, R"({"code":200,"data":{"LinkingCode":"ABCD-EFGH"},"success":false})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"success_no_code", 200, R"({"code":200,"data":{},"success":true})", 502, kInvalid, Outcome::bad_backend_answer, -1,
     0},
    {"already_paired", 400, R"({"code":400,"error":"Already paired","success":false})", 409, kAlreadyLoggedIn,
     Outcome::already_logged_in, -1, 0},
    {"no_session_needs_a_connect", 500, R"({"code":500,"error":"No session","success":false})", 503, kUnavailable,
     Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"missing_phone", 400, R"({"code":400,"error":"Missing Phone in Payload","success":false})", 400, kRejected,
     Outcome::backend_rejected, -1, 0},
    // whatsmeow's PairPhone errors, as wuzapi passes them on: a 400 with the error's text
    {"pairphone_error", 400,
     R"j({"code":400,"error":"international phone number required (must not start with 0)","success":false})j", 400,
     kRejected, Outcome::backend_rejected, -1, 0},
    {"rate_overlimit", 400, R"({"code":400,"error":"info query returned status 429: rate-overlimit","success":false})",
     429, kTooMany, Outcome::rate_limited, kWhatsAppRetryAfter, 0},
    {"iq_timed_out", 400, R"({"code":400,"error":"info query timed out","success":false})", 504, kTimedOut,
     Outcome::backend_timeout, -1, 0},
    {"connection_down_needs_a_reconnect", 400, R"({"code":400,"error":"websocket not connected","success":false})", 503,
     kUnavailable, Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"rate_overlimit_in_a_500_is_not_wuzapis", 500,
     R"({"code":500,"error":"info query returned status 429: rate-overlimit","success":false})", 500, kFailed,
     Outcome::backend_failed, -1, 0},
    {"unauthorized", 401, R"({"code":401,"error":"Unauthorized","success":false})", 502, kInvalid,
     Outcome::backend_auth_failed, -1, 0},
    {"db_error", 500, R"({"code":500,"error":"sql: database is closed","success":false})", 500, kFailed,
     Outcome::backend_failed, -1, 0},
    {"not_found", 404, "404 page not found\n", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, WuzapiAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
