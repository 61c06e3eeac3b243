// The native protocol (docs/protocol.md): the request body, pair codes,
// and one row per answer.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "backend/protocol.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

// ---------------------------------------------------------------------------------------------
// backend_request_body

struct RequestBodyRow {
    const char *name;
    std::string device_id;
    std::string phone;
    std::string body;
};

void PrintTo(const RequestBodyRow &row, std::ostream *os) {
    *os << row.name;
}

class BackendRequestBody : public testing::TestWithParam<RequestBodyRow> {};

TEST_P(BackendRequestBody, IsExact) {
    EXPECT_EQ(backend_request_body(GetParam().device_id, GetParam().phone), GetParam().body);
}

const RequestBodyRow kRequestBodies[] = {
    {"plain", "dev-42", "6281234567890", R"({"device_id":"dev-42","phone":"6281234567890"})"},
    {"quote_and_backslash", R"(a"b\c)", "1234567", R"({"device_id":"a\"b\\c","phone":"1234567"})"},
    {"json_injection", R"(x","phone":"1)", "6281234567890",
     R"({"device_id":"x\",\"phone\":\"1","phone":"6281234567890"})"},
    {"control_chars", "a\nb\x01", "1234567", R"({"device_id":"a\nb\u0001","phone":"1234567"})"},
    {"utf8", "d\xc3\xa9v", "1234567", "{\"device_id\":\"d\xc3\xa9v\",\"phone\":\"1234567\"}"},
    {"invalid_utf8", "d\xff", "1234567", R"({"device_id":"d\ufffd","phone":"1234567"})"},
    {"empty", "", "", R"({"device_id":"","phone":""})"},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendRequestBody, testing::ValuesIn(kRequestBodies), RowName());

// ---------------------------------------------------------------------------------------------
// format_pair_code

struct CodeRow {
    std::string code;
    const char *formatted;  // nullptr when invalid
};

void PrintTo(const CodeRow &row, std::ostream *os) {
    *os << '"' << row.code << '"';
}

class FormatPairCode : public testing::TestWithParam<CodeRow> {};

TEST_P(FormatPairCode, Checks) {
    const std::optional<std::string> formatted = format_pair_code(GetParam().code);
    if (GetParam().formatted == nullptr) {
        EXPECT_EQ(formatted, std::nullopt);
    } else {
        EXPECT_EQ(formatted, std::optional<std::string>(GetParam().formatted));
    }
}

const CodeRow kCodes[] = {
    {"ABCD1234", "ABCD-1234"},
    {"ABCD-1234", "ABCD-1234"},
    // the whole alphabet, 123456789ABCDEFGHJKLMNPQRSTVWXYZ
    {"12345678", "1234-5678"},
    {"9ABCDEFG", "9ABC-DEFG"},
    {"HJKLMNPQ", "HJKL-MNPQ"},
    {"RSTVWXYZ", "RSTV-WXYZ"},
    {"ZZZZ-ZZZZ", "ZZZZ-ZZZZ"},
    // not in the alphabet
    {"ABCD0123", nullptr},
    {"ABCDI234", nullptr},
    {"ABCDO234", nullptr},
    {"ABCDU234", nullptr},
    {"abcd1234", nullptr},
    {"abcd-1234", nullptr},
    {"ABCd1234", nullptr},
    {"ABCD 1234", nullptr},
    {"ABCD_1234", nullptr},
    {"ABCD*234", nullptr},
    // shape
    {"", nullptr},
    {"ABCD123", nullptr},
    {"ABCD12345", nullptr},
    {"ABC-D1234", nullptr},
    {"ABCD-123", nullptr},
    {"ABCD--1234", nullptr},
    {"ABCD-12-34", nullptr},
    {"-ABCD1234", nullptr},
    {"AB-CD-1234", nullptr},
    {std::string("ABCD\0"
                 "1234",
                 9),
     nullptr},
    {"ABCD\xc3\xa9"
     "12",
     nullptr},
};

INSTANTIATE_TEST_SUITE_P(Table, FormatPairCode, testing::ValuesIn(kCodes));

// Every byte at every place of both forms: kept exactly when it is in WhatsApp's alphabet.
TEST(FormatPairCodeBytes, EveryByteEverywhere) {
    const std::string alphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";
    for (int byte = 0; byte < 256; ++byte) {
        const char c = static_cast<char>(byte);
        const bool in_alphabet = alphabet.find(c) != std::string::npos;
        for (size_t at = 0; at < 9; ++at) {
            std::string dashed = "ABCD-1234";
            dashed[at] = c;
            // the dash's place takes the dash only; the others a symbol only
            std::optional<std::string> expected;
            if (at == 4 ? c == '-' : in_alphabet) expected = dashed;  // else invalid
            EXPECT_EQ(format_pair_code(dashed), expected) << byte << " at " << at << " of 9";
            if (at == 8) continue;
            std::string plain = "ABCD1234";
            plain[at] = c;
            expected.reset();
            if (in_alphabet) expected = plain.substr(0, 4) + "-" + plain.substr(4);
            EXPECT_EQ(format_pair_code(plain), expected) << byte << " at " << at << " of 8";
        }
    }
}

// ---------------------------------------------------------------------------------------------
// map_backend_answer: every row of docs/protocol.md's answer table

constexpr const char *kInvalid = "Invalid answer from the pairing backend";
constexpr const char *kRejected = "Pairing request was rejected by the backend";
constexpr const char *kFailed = "Failed to generate pairing code";
constexpr long kDefaultTimeout = 90;  // the configured wa_pair_code_timeout in these rows

struct AnswerRow {
    const char *name;
    long status;
    std::string body;
    std::string retry_after;
    int code;          // expected failure code, 0 on success
    std::string text;  // expected pair code on success, else the failure text
    long timeout;      // on success
    long retry;        // expected retry_after
};

void PrintTo(const AnswerRow &row, std::ostream *os) {
    *os << row.name;
}

class BackendAnswer : public testing::TestWithParam<AnswerRow> {};

// The native protocol's answers have one outcome per envelope code.
Outcome native_outcome(int code) {
    switch (code) {
    case 0:
        return Outcome::ok;
    case 400:
        return Outcome::backend_rejected;
    case 409:
        return Outcome::already_logged_in;
    case 429:
        return Outcome::rate_limited;
    case 500:
        return Outcome::backend_failed;
    default:
        return Outcome::bad_backend_answer;
    }
}

TEST_P(BackendAnswer, Maps) {
    const AnswerRow &row = GetParam();
    const PairCode answer = map_backend_answer(row.status, row.body, row.retry_after, kDefaultTimeout);
    EXPECT_EQ(answer.failure.code, row.code);
    EXPECT_EQ(answer.retry_after, row.retry);
    EXPECT_EQ(answer.has_retry_after, row.code == 429);
    EXPECT_FALSE(answer.invalid_token);
    EXPECT_EQ(answer.outcome, native_outcome(row.code));
    if (row.code == 0) {
        EXPECT_EQ(answer.code, row.text);
        EXPECT_EQ(answer.timeout, row.timeout);
        EXPECT_EQ(answer.failure.error, "");
    } else {
        EXPECT_EQ(answer.failure.error, row.text);
        EXPECT_EQ(answer.code, "");
    }
}

const std::string k200Printable(200, 'e');

const AnswerRow kAnswers[] = {
    // 200 with a valid code
    {"ok", 200, R"({"pair_code":"ABCD1234","timeout":120})", "", 0, "ABCD-1234", 120, 0},
    {"ok_dashed", 200, R"({"pair_code":"ABCD-1234","timeout":120})", "", 0, "ABCD-1234", 120, 0},
    {"ok_default_timeout", 200, R"({"pair_code":"WXYZ9876"})", "", 0, "WXYZ-9876", 90, 0},
    {"ok_null_timeout", 200, R"({"pair_code":"WXYZ9876","timeout":null})", "", 0, "WXYZ-9876", 90, 0},
    {"ok_timeout_1", 200, R"({"pair_code":"ABCD1234","timeout":1})", "", 0, "ABCD-1234", 1, 0},
    {"ok_timeout_86400", 200, R"({"pair_code":"ABCD1234","timeout":86400})", "", 0, "ABCD-1234", 86400, 0},
    {"ok_extra_fields", 200, R"({"status":"ok","pair_code":"ABCD1234","jid":"x@s.whatsapp.net"})", "", 0, "ABCD-1234",
     90, 0},
    {"ok_whitespace", 200, "\n { \"pair_code\" : \"ABCD1234\" } \n", "", 0, "ABCD-1234", 90, 0},
    {"ok_retry_after_ignored", 200, R"({"pair_code":"ABCD1234"})", "10", 0, "ABCD-1234", 90, 0},
    // 200 that is not usable
    {"not_json", 200, "ABCD1234", "", 502, kInvalid, 0, 0},
    {"empty_body", 200, "", "", 502, kInvalid, 0, 0},
    {"html", 200, "<html>ok</html>", "", 502, kInvalid, 0, 0},
    {"array", 200, R"([{"pair_code":"ABCD1234"}])", "", 502, kInvalid, 0, 0},
    {"trailing_garbage", 200, R"({"pair_code":"ABCD1234"}x)", "", 502, kInvalid, 0, 0},
    {"duplicate_pair_code", 200, R"({"pair_code":"ABCD1234","pair_code":"WXYZ9876"})", "", 502, kInvalid, 0, 0},
    {"too_deep", 200, R"({"pair_code":"ABCD1234","x":[[[[[[[[1]]]]]]]]})", "", 502, kInvalid, 0, 0},
    {"missing_pair_code", 200, R"({"timeout":120})", "", 502, kInvalid, 0, 0},
    {"origin_project_key", 200, R"({"PairCode":"ABCD1234","Timeout":160})", "", 502, kInvalid, 0, 0},
    {"null_pair_code", 200, R"({"pair_code":null})", "", 502, kInvalid, 0, 0},
    {"number_pair_code", 200, R"({"pair_code":12345678})", "", 502, kInvalid, 0, 0},
    {"lower_case_code", 200, R"({"pair_code":"abcd1234"})", "", 502, kInvalid, 0, 0},
    {"code_outside_alphabet", 200, R"({"pair_code":"ABCD0123"})", "", 502, kInvalid, 0, 0},
    {"reconnected_text", 200, R"({"pair_code":"WhatsApp Client is Reconnected"})", "", 502, kInvalid, 0, 0},
    {"timeout_zero", 200, R"({"pair_code":"ABCD1234","timeout":0})", "", 502, kInvalid, 0, 0},
    {"timeout_negative", 200, R"({"pair_code":"ABCD1234","timeout":-120})", "", 502, kInvalid, 0, 0},
    {"timeout_86401", 200, R"({"pair_code":"ABCD1234","timeout":86401})", "", 502, kInvalid, 0, 0},
    {"timeout_float", 200, R"({"pair_code":"ABCD1234","timeout":120.0})", "", 502, kInvalid, 0, 0},
    {"timeout_string", 200, R"({"pair_code":"ABCD1234","timeout":"120"})", "", 502, kInvalid, 0, 0},
    {"timeout_bool", 200, R"({"pair_code":"ABCD1234","timeout":true})", "", 502, kInvalid, 0, 0},
    {"timeout_huge", 200, R"({"pair_code":"ABCD1234","timeout":18446744073709551615})", "", 502, kInvalid, 0, 0},
    {"timeout_beyond_uint64", 200, R"({"pair_code":"ABCD1234","timeout":18446744073709551616})", "", 502, kInvalid, 0,
     0},
    // 409
    {"conflict", 409, R"({"error":"already logged in"})", "", 409, "Device is already logged in", 0, 0},
    {"conflict_no_body", 409, "", "", 409, "Device is already logged in", 0, 0},
    // 429
    {"rate_limited_no_retry_after", 429, "", "", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after", 429, R"({"error":"slow down"})", "10", 429, "Too many pairing requests", 0, 10},
    {"rate_limited_retry_after_spaces", 429, "", " 10 ", 429, "Too many pairing requests", 0, 10},
    {"rate_limited_retry_after_zero", 429, "", "0", 429, "Too many pairing requests", 0, 0},
    {"rate_limited_retry_after_max", 429, "", "86400", 429, "Too many pairing requests", 0, 86400},
    {"rate_limited_retry_after_leading_zeros", 429, "", "0030", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_too_big", 429, "", "86401", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_overflow", 429, "", "99999999999999999999999", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_negative", 429, "", "-1", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_fraction", 429, "", "1.5", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_date", 429, "", "Wed, 21 Oct 2015 07:28:00 GMT", 429, "Too many pairing requests", 0,
     30},
    // other 4xx
    {"bad_request_with_error", 400, R"({"error":"phone number is not on WhatsApp"})", "", 400,
     "phone number is not on WhatsApp", 0, 0},
    {"not_found_with_error", 404, R"({"error":"device not found"})", "", 400, "device not found", 0, 0},
    {"unauthorized_from_backend", 401, R"({"error":"bad key"})", "", 400, "bad key", 0, 0},
    {"error_200_bytes", 422, R"({"error":")" + k200Printable + "\"}", "", 400, k200Printable, 0, 0},
    {"error_201_bytes", 422, R"({"error":")" + k200Printable + "e\"}", "", 400, kRejected, 0, 0},
    {"error_printable_edges", 400, R"({"error":" ~"})", "", 400, " ~", 0, 0},
    {"error_empty", 400, R"({"error":""})", "", 400, kRejected, 0, 0},
    {"error_newline", 400, R"({"error":"line one\nline two"})", "", 400, kRejected, 0, 0},
    {"error_tab", 400, R"({"error":"a\tb"})", "", 400, kRejected, 0, 0},
    {"error_del", 400, R"({"error":"a\u007f"})", "", 400, kRejected, 0, 0},
    {"error_non_ascii", 400, R"({"error":"n\u00famero"})", "", 400, kRejected, 0, 0},
    {"error_not_string", 400, R"({"error":42})", "", 400, kRejected, 0, 0},
    {"error_object", 400, R"({"error":{"message":"x"}})", "", 400, kRejected, 0, 0},
    {"message_not_error", 400, R"({"message":"bad phone"})", "", 400, kRejected, 0, 0},
    {"rejection_not_json", 400, "Bad Request", "", 400, kRejected, 0, 0},
    {"rejection_empty", 403, "", "", 400, kRejected, 0, 0},
    {"rejection_duplicate_error", 400, R"({"error":"a","error":"b"})", "", 400, kRejected, 0, 0},
    {"status_499", 499, R"({"error":"client closed"})", "", 400, "client closed", 0, 0},
    // 5xx
    {"server_error", 500, R"({"error":"panic: runtime error"})", "", 500, kFailed, 0, 0},
    {"bad_gateway", 502, "", "", 500, kFailed, 0, 0},
    {"unavailable_with_retry_after", 503, "", "5", 500, kFailed, 0, 0},
    {"status_599", 599, "", "", 500, kFailed, 0, 0},
    // anything else
    {"continue", 100, "", "", 502, kInvalid, 0, 0},
    {"created", 201, R"({"pair_code":"ABCD1234"})", "", 502, kInvalid, 0, 0},
    {"no_content", 204, "", "", 502, kInvalid, 0, 0},
    {"redirect", 302, "", "", 502, kInvalid, 0, 0},
    {"not_modified", 304, "", "", 502, kInvalid, 0, 0},
    {"status_zero", 0, "", "", 502, kInvalid, 0, 0},
    {"status_negative", -1, "", "", 502, kInvalid, 0, 0},
    {"status_600", 600, "", "", 502, kInvalid, 0, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendAnswer, testing::ValuesIn(kAnswers), RowName());

struct TransportRow {
    TransportFailure failure;
    int code;
    const char *text;
    Outcome outcome;
};

void PrintTo(const TransportRow &row, std::ostream *os) {
    *os << row.code;
}

class Transport : public testing::TestWithParam<TransportRow> {};

TEST_P(Transport, Maps) {
    const PairCode answer = map_transport_failure(GetParam().failure);
    EXPECT_EQ(answer.failure.code, GetParam().code);
    EXPECT_EQ(answer.failure.error, GetParam().text);
    EXPECT_EQ(answer.code, "");
    EXPECT_EQ(answer.retry_after, 0);
    EXPECT_FALSE(answer.has_retry_after);
    EXPECT_EQ(answer.outcome, GetParam().outcome);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Transport,
    testing::Values(TransportRow{TransportFailure::unreachable, 503, "Pairing backend is unavailable",
                                 Outcome::backend_unavailable},
                    TransportRow{TransportFailure::timeout, 504, "Pairing backend did not answer in time",
                                 Outcome::backend_timeout},
                    TransportRow{TransportFailure::bad_answer, 502, "Invalid answer from the pairing backend",
                                 Outcome::bad_backend_answer},
                    TransportRow{TransportFailure::too_large, 502, "Invalid answer from the pairing backend",
                                 Outcome::bad_backend_answer}));

// ---------------------------------------------------------------------------------------------
// the request

TEST(NativeRequest, IsTheDocumentedOne) {
    const BackendRequest request =
        build_request(Protocol::native, {"dev-42", "6281234567890", "Bearer x.y.z", "trace-1"});
    EXPECT_TRUE(request.post);
    EXPECT_EQ(request.query, "");
    EXPECT_EQ(request.body, R"({"device_id":"dev-42","phone":"6281234567890"})");
    ASSERT_EQ(request.headers.size(), 4u);  // never the client's Authorization
    EXPECT_EQ(request.headers[0].name, "Content-Type");
    EXPECT_EQ(request.headers[0].value, "application/json");
    EXPECT_EQ(request.headers[1].name, "Accept");
    EXPECT_EQ(request.headers[1].value, "application/json");
    EXPECT_EQ(request.headers[2].name, "X-Device-Id");
    EXPECT_EQ(request.headers[2].value, "dev-42");
    EXPECT_EQ(request.headers[3].name, "X-Request-ID");
    EXPECT_EQ(request.headers[3].value, "trace-1");
}

}  // namespace
}  // namespace wa_pair
