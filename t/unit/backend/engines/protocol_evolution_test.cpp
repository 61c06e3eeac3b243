// Evolution API as the backend (docs/engines.md#evolution): the request and every documented
// answer, all of them 200s but the guards'.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(EvolutionRequest, IsAGetWithTheNumber) {
    const BackendRequest request = build_request(Protocol::evolution, {"dev-42", "6281234567890", "Bearer x.y.z", ""});
    EXPECT_FALSE(request.post);
    EXPECT_EQ(request.query, "number=6281234567890");
    EXPECT_EQ(request.body, "");
    EXPECT_EQ(header_lines(request), (Lines{"Accept: application/json"}));
}

class EvolutionAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(EvolutionAnswer, Maps) {
    check_engine_row(Protocol::evolution, GetParam());
}

const EngineRow kRows[] = {
    {"pairing_code", 200,
     R"({"pairingCode":"WZYEH1YY","code":"2@y8eK+bjtEjUWy9/FOM","base64":"data:image/png;base64,iVBORw0KGgo=","count":1})",
     200, "WZYE-H1YY", Outcome::ok, -1, 15},  // its age is unknown: 15 s at most
    {"pairing_code_dashed", 200, R"({"pairingCode":"WZYE-H1YY","count":1})", 200, "WZYE-H1YY", Outcome::ok, -1, 15},
    // The close state's answer, 2 s after connecting: the previous attempt's QR state, which
    // looks like any other (docs/engines.md#evolution): answered for 15 s at most.
    {"close_state_previous_code", 200,
     R"({"pairingCode":"PREV2345","code":"2@old","base64":"data:image/png;base64,b2xk","count":7})", 200, "PREV-2345",
     Outcome::ok, -1, 15},
    {"null_code", 200,
     R"({"pairingCode":null,"code":"2@y8eK+bjtEjUWy9/FOM","base64":"data:image/png;base64,iVBORw0KGgo=","count":1})",
     503, kUnavailable, Outcome::backend_not_ready, 5, 0},
    {"no_code_yet", 200, R"({"count":0})", 503, kUnavailable, Outcome::backend_not_ready, 5, 0},
    {"bad_code", 200, R"({"pairingCode":"WZYEH1Y0","count":1})", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"code_not_string", 200, R"({"pairingCode":12345678,"count":1})", 502, kInvalid, Outcome::bad_backend_answer, -1,
     0},
    {"open", 200, R"({"instance":{"instanceName":"default","state":"open"}})", 409, kAlreadyLoggedIn,
     Outcome::already_logged_in, -1, 0},
    {"other_state", 200, R"({"instance":{"instanceName":"default","status":"refused"},"qrcode":{"count":3}})", 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"fresh_instance_waiting_for_its_qr", 200, R"({"count":0})", 503, kUnavailable, Outcome::backend_not_ready, 5, 0},
    {"error_true", 200,
     R"j({"error":true,"message":"Error: Connection Closed\n    at WAProto (/evolution/dist/main.js:1:1)"})j", 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"unknown_object", 200, R"({"hello":"world"})", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"not_json", 200, "<html>", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"unauthorized", 401, R"({"status":401,"error":"Unauthorized","response":{"message":"Unauthorized"}})", 502,
     kInvalid, Outcome::backend_auth_failed, -1, 0},
    {"forbidden", 403, R"({"status":403,"error":"Forbidden","response":{"message":["Missing global api key"]}})", 502,
     kInvalid, Outcome::backend_auth_failed, -1, 0},
    {"no_instance_needs_a_create", 404,
     R"({"status":404,"error":"Not Found","response":{"message":["The \"default\" instance does not exist"]}})", 503,
     kUnavailable, Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"no_instance_as_a_string", 404,
     R"({"status":404,"error":"Not Found","response":{"message":"The \"default\" instance does not exist"}})", 503,
     kUnavailable, Outcome::backend_not_ready, -1, 0, "", kWarn},
    {"no_route", 404,
     R"({"status":404,"error":"Not Found","response":{"message":["Cannot GET /evo/instance/connect/default?number=6281234567890"]}})",
     502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"internal", 500,
     R"({"status":500,"error":"Internal Server Error","response":{"message":"PrismaClientKnownRequestError"}})", 500,
     kFailed, Outcome::backend_failed, -1, 0},
    {"bad_request", 400,
     R"({"status":400,"error":"Bad Request","response":{"message":["\"instanceName\" not provided."]}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, EvolutionAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
