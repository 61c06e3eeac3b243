// wuzapi as the backend (docs/engines.md#wuzapi): the request and every documented answer.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(WuzapiRequest, PostsThePhone)
{
    const BackendRequest request =
        build_request(Protocol::wuzapi, {"dev-42", "6281234567890", "Bearer x.y.z", "t-9"});
    EXPECT_TRUE(request.post);
    EXPECT_EQ(request.query, "");
    EXPECT_EQ(request.body, R"({"Phone":"6281234567890"})");
    EXPECT_EQ(header_lines(request), (Lines{"Content-Type: application/json",
                                            "Accept: application/json", "X-Request-ID: t-9"}));
}

class WuzapiAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(WuzapiAnswer, Maps) { check_engine_row(Protocol::wuzapi, GetParam()); }

const EngineRow kRows[] = {
    {"success", 200, "{\"code\":200,\"data\":{\"LinkingCode\":\"ABCD-EFGH\"},\"success\":true}\n",
     200, "ABCD-EFGH", Outcome::ok, -1, 90},
    {"success_false", 200, R"({"code":200,"data":{"LinkingCode":"ABCD-EFGH"},"success":false})",
     502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"success_no_code", 200, R"({"code":200,"data":{},"success":true})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"already_paired", 400, R"({"code":400,"error":"Already paired","success":false})", 409,
     kAlreadyLoggedIn, Outcome::already_logged_in, -1, 0},
    {"no_session", 500, R"({"code":500,"error":"No session","success":false})", 503, kUnavailable,
     Outcome::backend_not_ready, -1, 0},
    {"missing_phone", 400, R"({"code":400,"error":"Missing Phone in Payload","success":false})",
     400, kRejected, Outcome::backend_rejected, -1, 0},
    {"pairphone_error", 400,
     R"({"code":400,"error":"failed to request pair code: websocket not connected","success":false})",
     400, kRejected, Outcome::backend_rejected, -1, 0},
    {"unauthorized", 401, R"({"code":401,"error":"Unauthorized","success":false})", 502, kInvalid,
     Outcome::backend_auth_failed, -1, 0},
    {"db_error", 500, R"({"code":500,"error":"sql: database is closed","success":false})", 500,
     kFailed, Outcome::backend_failed, -1, 0},
    {"not_found", 404, "404 page not found\n", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, WuzapiAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
