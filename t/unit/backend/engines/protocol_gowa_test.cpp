// GoWA as the backend (docs/engines.md#gowa): the request and every documented answer.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

// GoWA URL-unescapes X-Device-Id (Go's url.QueryUnescape): every byte but the unreserved
// ones goes as %XX, so that the id it decodes is the token's.
TEST(GowaRequest, TheDeviceIsEncodedTheWayGowaDecodesIt) {
    const std::vector<std::pair<std::string, std::string>> ids = {
        {"dev-42", "dev-42"},
        {"A.b_c~9", "A.b_c~9"},
        {"ops+1", "ops%2B1"},
        {"x%41", "x%2541"},
        {"a b", "a%20b"},
        {"d\xc3\xa9v", "d%C3%A9v"},
        {"a/b?c#d&e=f", "a%2Fb%3Fc%23d%26e%3Df"},
        {"", ""},
    };
    for (const auto &[id, header] : ids) {
        const BackendRequest request = build_request(Protocol::gowa, {id, "6281234567890", "", ""});
        EXPECT_EQ(header_lines(request), (Lines{"Accept: application/json", "X-Device-Id: " + header})) << id;
    }
}

TEST(GowaRequest, IsAGetWithThePhoneAndTheDevice) {
    const BackendRequest request = build_request(Protocol::gowa, {"dev-42", "6281234567890", "Bearer x.y.z", "t-1"});
    EXPECT_FALSE(request.post);
    EXPECT_EQ(request.query, "phone=6281234567890");
    EXPECT_EQ(request.body, "");
    EXPECT_EQ(header_lines(request), (Lines{"Accept: application/json", "X-Device-Id: dev-42", "X-Request-ID: t-1"}));
}

class GowaAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(GowaAnswer, Maps) {
    check_engine_row(Protocol::gowa, GetParam());
}

const EngineRow kRows[] = {
    {"success", 200,
     R"({"code":"SUCCESS","message":"Login with code success","results":{"device_id":"dev-42","pair_code":"ABCD-EFGH"}})",
     200, "ABCD-EFGH", Outcome::ok, -1, 80},  // it may pair on a connection already open
    {"success_no_dash", 200, R"({"code":"SUCCESS","results":{"pair_code":"WXYZ1234"}})", 200, "WXYZ-1234", Outcome::ok,
     -1, 80},
    {"success_without_code", 200, R"({"code":"SUCCESS","results":{"device_id":"dev-42"}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"success_bad_code", 200, R"({"code":"SUCCESS","results":{"pair_code":"abcd-efgh"}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"ok_status_other_code", 200, R"({"code":"PENDING","results":{"pair_code":"ABCD-EFGH"}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"already_logged_in", 400, R"({"code":"ALREADY_LOGGED_IN","message":"you are already logged in."})", 409,
     kAlreadyLoggedIn, Outcome::already_logged_in, -1, 0},
    {"validation_error_hides_the_phone", 400,
     R"({"code":"VALIDATION_ERROR","message":"phone_number(6281234567890): must be in a valid format."})", 400,
     kRejected, Outcome::backend_rejected, -1, 0},
    {"gateway_timeout", 504,
     R"({"code":"GATEWAY_TIMEOUT","message":"Request timed out waiting for WhatsApp server response"})", 504, kTimedOut,
     Outcome::backend_timeout, -1, 0},
    {"authentication_error_is_not_this_routes", 401,
     R"({"code":"AUTHENTICATION_ERROR","message":"you are not connect to services server, please reconnect"})", 502,
     kInvalid, Outcome::backend_auth_failed, -1, 0},
    {"basic_auth_refused", 401, "Unauthorized", 502, kInvalid, Outcome::backend_auth_failed, -1, 0},
    {"device_not_found", 404,
     R"({"code":"DEVICE_NOT_FOUND","message":"device not found; create a device first from /api/devices or provide a valid X-Device-Id","results":{"device_id":"dev-42"}})",
     503, kUnavailable, Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"device_manager_unavailable", 503,
     R"({"code":"DEVICE_MANAGER_UNAVAILABLE","message":"Device manager is not initialized"})", 503, kUnavailable,
     Outcome::backend_not_ready, 5, 0},
    {"internal_error", 500, R"({"code":"INTERNAL_SERVER_ERROR","message":"websocket not connected"})", 500, kFailed,
     Outcome::backend_failed, -1, 0},
    {"connect_failed", 500,
     R"({"code":"INTERNAL_SERVER_ERROR","message":"failed to dial whatsapp web websocket: dial tcp: i/o timeout"})",
     500, kFailed, Outcome::backend_failed, -1, 0},
    {"rate_overlimit", 500,
     R"({"code":"INTERNAL_SERVER_ERROR","message":"info query returned status 429: rate-overlimit"})", 429, kTooMany,
     Outcome::rate_limited, kWhatsAppRetryAfter, 0},
    {"rate_overlimit_text_under_another_code", 400,
     R"({"code":"VALIDATION_ERROR","message":"phone_number(rate-overlimit): must be in a valid format."})", 400,
     kRejected, Outcome::backend_rejected, -1, 0},
    {"panic_text", 500, "panic", 500, kFailed, Outcome::backend_failed, -1, 0},
    {"device_id_required", 400,
     R"({"code":"DEVICE_ID_REQUIRED","message":"device_id is required via X-Device-Id header or device_id query"})",
     502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"rate_limited", 429, "", 429, kTooMany, Outcome::rate_limited, 30, 0},
    {"redirect", 302, "", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, GowaAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
