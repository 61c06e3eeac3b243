// WAHA as the backend (docs/engines.md#waha): the request and every documented answer.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(WahaRequest, PostsThePhoneNumber) {
    const BackendRequest request = build_request(Protocol::waha, {"dev-42", "6281234567890", "Bearer x.y.z", ""});
    EXPECT_TRUE(request.post);
    EXPECT_EQ(request.query, "");
    EXPECT_EQ(request.body, R"({"phoneNumber":"6281234567890"})");
    EXPECT_EQ(header_lines(request), (Lines{"Content-Type: application/json", "Accept: application/json"}));
}

class WahaAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(WahaAnswer, Maps) {
    check_engine_row(Protocol::waha, GetParam());
}

// NestJS's error body for a message.
std::string nest(int status, const char *error, const std::string &message) {
    return R"({"message":")" + message + R"(","error":")" + error + R"(","statusCode":)" + std::to_string(status) + "}";
}

std::string status_422(const char *status) {
    return nest(422, "Unprocessable Entity",
                std::string("Can request code only in SCAN_QR_CODE status. The current status is ") + status);
}

const EngineRow kRows[] = {
    {"created", 201, R"({"code":"ABCD-EFGH"})", 200, "ABCD-EFGH", Outcome::ok, -1, 80},
    {"ok", 200, R"({"code":"ABCD-EFGH"})", 200, "ABCD-EFGH", Outcome::ok, -1, 80},
    {"no_dash", 201, R"({"code":"ABCDEFGH"})", 200, "ABCD-EFGH", Outcome::ok, -1, 80},
    {"bad_code", 201, R"({"code":"ABCD-EFG"})", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"no_code", 201, R"({})", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    // the session's status, by what it means
    {"starting", 422, status_422("STARTING"), 503, kUnavailable, Outcome::backend_not_ready, 5, 0},
    {"stopped_needs_a_start", 422, status_422("STOPPED"), 503, kUnavailable, Outcome::backend_not_ready, -1, 0, "",
     kWarn},
    {"failed_needs_a_restart", 422, status_422("FAILED"), 503, kUnavailable, Outcome::backend_not_ready, -1, 0, "",
     kWarn},
    {"working_is_paired", 422, status_422("WORKING"), 409, kAlreadyLoggedIn, Outcome::already_logged_in, -1, 0},
    {"unknown_status", 422, status_422("PAUSED"), 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"status_with_more_after_it", 422, status_422("FAILED, again"), 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"not_implemented", 422, nest(422, "Unprocessable Entity", "The method is not implemented by the engine."), 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"method_refused", 422,
     nest(422, "Unprocessable Entity", "NOWEB engine doesn't support any 'method', remove it and try again"), 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"unprocessable_not_json", 422, "", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"no_session_needs_a_start", 404,
     R"({"message":"We didn't find a session with name 'default'.\nPlease start it first by using POST /api/sessions/default/start request","error":"Not Found","statusCode":404})",
     503, kUnavailable, Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"no_route", 404, nest(404, "Not Found", "Cannot POST /waha/api/default/auth/request-code"), 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"api_key_refused", 401, R"({"message":"Unauthorized","statusCode":401})", 502, kInvalid,
     Outcome::backend_auth_failed, -1, 0},
    {"exception_500", 500,
     R"({"statusCode":500,"timestamp":"2025-01-01T00:00:00.000Z","exception":{"message":"Evaluation failed","name":"Error"},"request":{"path":"/api/default/auth/request-code","method":"POST","body":{"phoneNumber":"6281234567890"},"query":{}},"version":{"version":"2025.1.1"}})",
     500, kFailed, Outcome::backend_failed, -1, 0},
    {"bad_request", 400, R"({"message":["phoneNumber must be a string"],"error":"Bad Request","statusCode":400})", 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, WahaAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
