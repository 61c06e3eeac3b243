// go-whatsapp-multi-session-rest-api as the backend (docs/engines.md#origin): the request,
// with the client's token passed through, and every documented answer of its code.
#include "engine_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using Lines = std::vector<std::string>;

TEST(OriginRequest, PassesTheClientsTokenAsBearer) {
    for (const char *authorization : {"Bearer x.y.z", "bearer   x.y.z ", "x.y.z", "  x.y.z"}) {
        const BackendRequest request =
            build_request(Protocol::origin, {"dev-42", "6281234567890", authorization, "t-1"});
        EXPECT_TRUE(request.post);
        EXPECT_EQ(request.query, "");
        EXPECT_EQ(request.body, R"({"phone":"6281234567890"})");
        EXPECT_EQ(header_lines(request), (Lines{"Content-Type: application/json", "Accept: application/json",
                                                "Authorization: Bearer x.y.z", "X-Request-ID: t-1"}))
            << authorization;
    }
}

TEST(OriginRequest, NoAuthorizationWithoutAToken) {
    const BackendRequest request = build_request(Protocol::origin, {"dev-42", "1234567", "", ""});
    EXPECT_EQ(header_lines(request), (Lines{"Content-Type: application/json", "Accept: application/json"}));
}

class OriginAnswer : public testing::TestWithParam<EngineRow> {};

TEST_P(OriginAnswer, Maps) {
    check_engine_row(Protocol::origin, GetParam());
}

const EngineRow kRows[] = {
    {"success", 200,
     R"({"status":true,"code":200,"message":"Success Generate Pairing Code","data":{"PairCode":"ABCD-EFGH","Timeout":160}})",
     200, "ABCD-EFGH", Outcome::ok, -1, 150},  // 160 from the connection's start, made in the call
    {"success_no_dash", 200, R"({"status":true,"code":200,"data":{"PairCode":"ABCDEFGH","Timeout":160}})", 200,
     "ABCD-EFGH", Outcome::ok, -1, 150},
    {"success_short_timeout", 200, R"({"status":true,"code":200,"data":{"PairCode":"ABCDEFGH","Timeout":40}})", 200,
     "ABCD-EFGH", Outcome::ok, -1, 40},
    {"success_no_timeout", 200, R"({"status":true,"code":200,"data":{"PairCode":"ABCDEFGH"}})", 200, "ABCD-EFGH",
     Outcome::ok, -1, 90},
    {"success_timeout_zero", 200, R"({"status":true,"code":200,"data":{"PairCode":"ABCDEFGH","Timeout":0}})", 200,
     "ABCD-EFGH", Outcome::ok, -1, 90},
    {"reconnected", 200,
     R"({"status":true,"code":200,"message":"Success Generate Pairing Code","data":{"PairCode":"WhatsApp Client is Reconnected","Timeout":0}})",
     409, kAlreadyLoggedIn, Outcome::already_logged_in, -1, 0},
    {"bad_timeout", 200, R"({"status":true,"data":{"PairCode":"ABCDEFGH","Timeout":-1}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"timeout_string", 200, R"({"status":true,"data":{"PairCode":"ABCDEFGH","Timeout":"160"}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"contract_shape_is_not_origin", 200,
     R"({"status":true,"code":200,"data":{"pair_code":"ABCD-EFGH","timeout":120}})", 502, kInvalid,
     Outcome::bad_backend_answer, -1, 0},
    {"bad_code", 200, R"({"status":true,"data":{"PairCode":"ABCD-EFG0"}})", 502, kInvalid, Outcome::bad_backend_answer,
     -1, 0},
    {"not_json", 200, "<html>", 502, kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"phone_required", 400, R"({"status":false,"code":400,"message":"Phone is required","error":"Phone is required"})",
     400, "Phone is required", Outcome::backend_rejected, -1, 0},
    {"failed_parse", 400,
     R"({"status":false,"code":400,"message":"Failed parse body request","error":"Failed parse body request"})", 400,
     "Failed parse body request", Outcome::backend_rejected, -1, 0},
    {"bad_request_unprintable", 400, R"({"status":false,"code":400,"error":"a\nb"})", 400, kRejected,
     Outcome::backend_rejected, -1, 0},
    {"token_revoked", 401,
     R"({"status":false,"code":401,"message":"Token has been revoked. Please regenerate a new token.","error":"Token has been revoked. Please regenerate a new token."})",
     401, "Invalid or expired JWT token", Outcome::unauthorized, -1, 0},
    {"device_not_found", 401, R"({"status":false,"code":401,"message":"Device not found","error":"Device not found"})",
     401, "Invalid or expired JWT token", Outcome::unauthorized, -1, 0},
    {"too_many", 429, R"({"status":false,"code":429,"message":"Too many requests","error":"Too many requests"})", 429,
     kTooMany, Outcome::rate_limited, 30, 0},
    {"too_many_retry_after", 429, "", 429, kTooMany, Outcome::rate_limited, 12, 0, "12"},
    {"raw_500", 500,
     R"({"status":false,"code":500,"message":"WhatsApp Client is not Valid","error":"WhatsApp Client is not Valid"})",
     500, kFailed, Outcome::backend_failed, -1, 0},
    {"rate_overlimit", 500,
     R"({"status":false,"code":500,"message":"info query returned status 429: rate-overlimit","error":"info query returned status 429: rate-overlimit"})",
     429, kTooMany, Outcome::rate_limited, kWhatsAppRetryAfter, 0},
    {"iq_timed_out", 500,
     R"({"status":false,"code":500,"message":"info query timed out","error":"info query timed out"})", 504, kTimedOut,
     Outcome::backend_timeout, -1, 0},
    {"pairing_context_deadline", 500,
     R"({"status":false,"code":500,"message":"context deadline exceeded","error":"context deadline exceeded"})", 504,
     kTimedOut, Outcome::backend_timeout, -1, 0},
    {"rate_overlimit_only_in_message_is_not_read", 500,
     R"({"status":false,"code":500,"message":"info query returned status 429: rate-overlimit"})", 500, kFailed,
     Outcome::backend_failed, -1, 0},
    {"panic_500", 500,
     R"({"status":false,"code":500,"message":"runtime error: invalid memory address or nil pointer dereference","error":"runtime error: invalid memory address or nil pointer dereference"})",
     500, kFailed, Outcome::backend_failed, -1, 0},
    {"route_404", 404, R"({"status":false,"code":404,"message":"Cannot POST /x","error":"Cannot POST /x"})", 502,
     kInvalid, Outcome::bad_backend_answer, -1, 0},
    {"created", 201, R"({"status":true,"data":{"PairCode":"ABCDEFGH"}})", 502, kInvalid, Outcome::bad_backend_answer,
     -1, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, OriginAnswer, testing::ValuesIn(kRows), RowName());

}  // namespace
}  // namespace wa_pair
