// The pairing backend's native protocol (DESIGN.md section 6, .spec-texts.md): URL, request
// body, pair codes, and one row per answer.
#include <gtest/gtest.h>

#include <string>

#include "../../src/backend.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

// ---------------------------------------------------------------------------------------------
// parse_backend_url

struct UrlRow {
    const char* name;
    std::string value;
    std::string url;          // expected on success
    std::string unix_socket;  // expected on success
    const char* error;        // expected text on failure, nullptr on success
};

void PrintTo(const UrlRow& row, std::ostream* os) { *os << row.name; }

class BackendUrlParse : public testing::TestWithParam<UrlRow> {};

TEST_P(BackendUrlParse, Parses)
{
    const UrlRow& row = GetParam();
    const BackendUrl parsed = parse_backend_url(row.value);
    if (row.error == nullptr) {
        EXPECT_EQ(parsed.error, "");
        EXPECT_EQ(parsed.url, row.url);
        EXPECT_EQ(parsed.unix_socket, row.unix_socket);
    } else {
        EXPECT_EQ(parsed.error, row.error);
        EXPECT_EQ(parsed.url, "");
        EXPECT_EQ(parsed.unix_socket, "");
    }
}

constexpr const char* kHostError = "the host must be an IP address or localhost (no DNS in a worker)";
constexpr const char* kBadChars =
    "the URL must not contain spaces, control characters or non-ASCII bytes";

const UrlRow kUrls[] = {
    {"unix_default_uri", "http://unix:/run/wa-pair/backend.sock",
     "http://localhost/v1/pair-code", "/run/wa-pair/backend.sock", nullptr},
    {"unix_with_uri", "http://unix:/run/wa-pair/backend.sock:/v1/pair-code",
     "http://localhost/v1/pair-code", "/run/wa-pair/backend.sock", nullptr},
    {"unix_custom_uri_query", "http://unix:/tmp/b.sock:/api/pair?engine=gowa&v=2",
     "http://localhost/api/pair?engine=gowa&v=2", "/tmp/b.sock", nullptr},
    {"unix_upper_case_scheme", "HTTP://UNIX:/tmp/b.sock", "http://localhost/v1/pair-code",
     "/tmp/b.sock", nullptr},
    {"unix_107_byte_path", "http://unix:/" + std::string(106, 's'),
     "http://localhost/v1/pair-code", "/" + std::string(106, 's'), nullptr},
    {"ipv4_port_uri", "http://127.0.0.1:8080/v1/pair-code", "http://127.0.0.1:8080/v1/pair-code",
     "", nullptr},
    {"ipv4_port", "http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/pair-code", "", nullptr},
    {"ipv4", "http://10.0.0.5", "http://10.0.0.5/v1/pair-code", "", nullptr},
    {"ipv4_root_uri_kept", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/", "", nullptr},
    {"ipv4_query_kept", "http://127.0.0.1:3000/session/pair?device=1",
     "http://127.0.0.1:3000/session/pair?device=1", "", nullptr},
    {"localhost", "http://localhost:9000", "http://localhost:9000/v1/pair-code", "", nullptr},
    {"localhost_mixed_case", "http://LocalHost:9000/p", "http://localhost:9000/p", "", nullptr},
    {"ipv6", "http://[::1]:8080/x", "http://[::1]:8080/x", "", nullptr},
    {"ipv6_no_port", "http://[::1]", "http://[::1]/v1/pair-code", "", nullptr},
    {"port_65535", "http://127.0.0.1:65535", "http://127.0.0.1:65535/v1/pair-code", "", nullptr},
    // refused at nginx -t
    {"empty", "", "", "", "the URL is empty"},
    {"https", "https://127.0.0.1:8443/v1/pair-code", "", "",
     "https is not supported: use http:// to a unix socket or a local address"},
    {"https_upper", "HTTPS://127.0.0.1", "", "",
     "https is not supported: use http:// to a unix socket or a local address"},
    {"no_scheme", "127.0.0.1:8080", "", "", "the URL must start with http://"},
    {"ftp", "ftp://127.0.0.1/", "", "", "the URL must start with http://"},
    {"bare_unix_path", "unix:/tmp/b.sock", "", "", "the URL must start with http://"},
    {"hostname", "http://example.com/v1/pair-code", "", "", kHostError},
    {"service_name", "http://backend:8080", "", "", kHostError},
    {"localhost_dot", "http://localhost.:8080", "", "", kHostError},
    {"ipv4_out_of_range", "http://256.0.0.1/", "", "", kHostError},
    {"ipv4_short_form", "http://127.1/", "", "", kHostError},
    {"ipv4_leading_zero", "http://127.000.000.001/", "", "", kHostError},
    {"ipv6_without_brackets", "http://::1/", "", "", kHostError},
    {"ipv6_unterminated", "http://[::1:8080/", "", "", "unterminated IPv6 address"},
    {"ipv6_zone", "http://[fe80::1%25eth0]/", "", "", "invalid IPv6 address"},
    {"ipv6_junk_after", "http://[::1]x/", "", "",
     "invalid characters after the IPv6 address"},
    {"missing_host", "http://", "", "", "the host is missing"},
    {"missing_host_with_uri", "http:///v1/pair-code", "", "", "the host is missing"},
    {"port_zero", "http://127.0.0.1:0", "", "", "invalid port"},
    {"port_too_big", "http://127.0.0.1:65536", "", "", "invalid port"},
    {"port_empty", "http://127.0.0.1:/x", "", "", "invalid port"},
    {"port_letters", "http://127.0.0.1:http", "", "", "invalid port"},
    {"port_signed", "http://127.0.0.1:+80", "", "", "invalid port"},
    {"query_without_path", "http://127.0.0.1:8080?x=1", "", "",
     "the URI must start with /"},
    {"user_info", "http://user:pw@127.0.0.1/", "", "",
     "user information in the URL is not supported"},
    {"fragment", "http://127.0.0.1/v1/pair-code#x", "", "",
     "a fragment (#) is not allowed"},
    {"unix_relative_path", "http://unix:run/b.sock", "", "",
     "the unix socket path must be absolute"},
    {"unix_dot_relative_path", "http://unix:./b.sock", "", "",
     "the unix socket path must be absolute"},
    {"unix_missing_path", "http://unix:", "", "", "the unix socket path is missing"},
    {"unix_uri_without_slash", "http://unix:/tmp/b.sock:v1/pair-code", "", "",
     "the URI after the unix socket path must start with /"},
    {"unix_empty_uri", "http://unix:/tmp/b.sock:", "", "",
     "the URI after the unix socket path must start with /"},
    {"unix_query_in_path", "http://unix:/tmp/b.sock?x=1", "", "",
     "the unix socket path must not contain '?' or '#'"},
    {"unix_path_too_long", "http://unix:/" + std::string(107, 's'), "", "",
     "the unix socket path is too long"},
    {"space_inside", "http://127.0.0.1:8080/v1/pair code", "", "", kBadChars},
    {"leading_space", " http://127.0.0.1", "", "", kBadChars},
    {"trailing_newline", "http://127.0.0.1\n", "", "", kBadChars},
    {"control_char", "http://127.0.0.1/\x01", "", "", kBadChars},
    {"non_ascii", "http://127.0.0.1/p\xc3\xa9", "", "", kBadChars},
    {"nul", std::string("http://127.0.0.1/\0x", 19), "", "", kBadChars},
};

INSTANTIATE_TEST_SUITE_P(Table, BackendUrlParse, testing::ValuesIn(kUrls), RowName());

// ---------------------------------------------------------------------------------------------
// backend_request_body

struct RequestBodyRow {
    const char* name;
    std::string device_id;
    std::string phone;
    std::string body;
};

void PrintTo(const RequestBodyRow& row, std::ostream* os) { *os << row.name; }

class BackendRequestBody : public testing::TestWithParam<RequestBodyRow> {};

TEST_P(BackendRequestBody, IsExact)
{
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
    const char* formatted;  // "" when invalid
};

void PrintTo(const CodeRow& row, std::ostream* os) { *os << '"' << row.code << '"'; }

class FormatPairCode : public testing::TestWithParam<CodeRow> {};

TEST_P(FormatPairCode, Checks)
{
    EXPECT_EQ(format_pair_code(GetParam().code), GetParam().formatted);
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
    {"ABCD0123", ""},
    {"ABCDI234", ""},
    {"ABCDO234", ""},
    {"ABCDU234", ""},
    {"abcd1234", ""},
    {"abcd-1234", ""},
    {"ABCd1234", ""},
    {"ABCD 1234", ""},
    {"ABCD_1234", ""},
    {"ABCD*234", ""},
    // shape
    {"", ""},
    {"ABCD123", ""},
    {"ABCD12345", ""},
    {"ABC-D1234", ""},
    {"ABCD-123", ""},
    {"ABCD--1234", ""},
    {"ABCD-12-34", ""},
    {"-ABCD1234", ""},
    {"AB-CD-1234", ""},
    {std::string("ABCD\0" "1234", 9), ""},
    {"ABCD\xc3\xa9" "12", ""},
};

INSTANTIATE_TEST_SUITE_P(Table, FormatPairCode, testing::ValuesIn(kCodes));

// ---------------------------------------------------------------------------------------------
// map_backend_answer: every row of DESIGN.md section 6 and .spec-texts.md

constexpr const char* kInvalid = "Invalid answer from the pairing backend";
constexpr const char* kRejected = "Pairing request was rejected by the backend";
constexpr const char* kFailed = "Failed to generate pairing code";
constexpr long kDefaultTimeout = 90;  // the configured wa_pair_code_timeout in these rows

struct AnswerRow {
    const char* name;
    long status;
    std::string body;
    std::string retry_after;
    int code;           // expected failure code, 0 on success
    std::string text;   // expected pair code on success, else the failure text
    long timeout;       // on success
    long retry;         // expected retry_after
};

void PrintTo(const AnswerRow& row, std::ostream* os) { *os << row.name; }

class BackendAnswer : public testing::TestWithParam<AnswerRow> {};

TEST_P(BackendAnswer, Maps)
{
    const AnswerRow& row = GetParam();
    const PairCode answer = map_backend_answer(row.status, row.body, row.retry_after, kDefaultTimeout);
    EXPECT_EQ(answer.failure.code, row.code);
    EXPECT_EQ(answer.retry_after, row.retry);
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
    {"ok_timeout_86400", 200, R"({"pair_code":"ABCD1234","timeout":86400})", "", 0, "ABCD-1234",
     86400, 0},
    {"ok_extra_fields", 200, R"({"status":"ok","pair_code":"ABCD1234","jid":"x@s.whatsapp.net"})",
     "", 0, "ABCD-1234", 90, 0},
    {"ok_whitespace", 200, "\n { \"pair_code\" : \"ABCD1234\" } \n", "", 0, "ABCD-1234", 90, 0},
    {"ok_retry_after_ignored", 200, R"({"pair_code":"ABCD1234"})", "10", 0, "ABCD-1234", 90, 0},
    // 200 that is not usable
    {"not_json", 200, "ABCD1234", "", 502, kInvalid, 0, 0},
    {"empty_body", 200, "", "", 502, kInvalid, 0, 0},
    {"html", 200, "<html>ok</html>", "", 502, kInvalid, 0, 0},
    {"array", 200, R"([{"pair_code":"ABCD1234"}])", "", 502, kInvalid, 0, 0},
    {"trailing_garbage", 200, R"({"pair_code":"ABCD1234"}x)", "", 502, kInvalid, 0, 0},
    {"duplicate_pair_code", 200, R"({"pair_code":"ABCD1234","pair_code":"WXYZ9876"})", "", 502,
     kInvalid, 0, 0},
    {"too_deep", 200, R"({"pair_code":"ABCD1234","x":[[[[[[[[1]]]]]]]]})", "", 502, kInvalid, 0, 0},
    {"missing_pair_code", 200, R"({"timeout":120})", "", 502, kInvalid, 0, 0},
    {"origin_project_key", 200, R"({"PairCode":"ABCD1234","Timeout":160})", "", 502, kInvalid, 0, 0},
    {"null_pair_code", 200, R"({"pair_code":null})", "", 502, kInvalid, 0, 0},
    {"number_pair_code", 200, R"({"pair_code":12345678})", "", 502, kInvalid, 0, 0},
    {"lower_case_code", 200, R"({"pair_code":"abcd1234"})", "", 502, kInvalid, 0, 0},
    {"code_outside_alphabet", 200, R"({"pair_code":"ABCD0123"})", "", 502, kInvalid, 0, 0},
    {"reconnected_text", 200, R"({"pair_code":"WhatsApp Client is Reconnected"})", "", 502,
     kInvalid, 0, 0},
    {"timeout_zero", 200, R"({"pair_code":"ABCD1234","timeout":0})", "", 502, kInvalid, 0, 0},
    {"timeout_negative", 200, R"({"pair_code":"ABCD1234","timeout":-120})", "", 502, kInvalid, 0, 0},
    {"timeout_86401", 200, R"({"pair_code":"ABCD1234","timeout":86401})", "", 502, kInvalid, 0, 0},
    {"timeout_float", 200, R"({"pair_code":"ABCD1234","timeout":120.0})", "", 502, kInvalid, 0, 0},
    {"timeout_string", 200, R"({"pair_code":"ABCD1234","timeout":"120"})", "", 502, kInvalid, 0, 0},
    {"timeout_bool", 200, R"({"pair_code":"ABCD1234","timeout":true})", "", 502, kInvalid, 0, 0},
    {"timeout_huge", 200, R"({"pair_code":"ABCD1234","timeout":18446744073709551615})", "", 502,
     kInvalid, 0, 0},
    {"timeout_beyond_uint64", 200, R"({"pair_code":"ABCD1234","timeout":18446744073709551616})",
     "", 502, kInvalid, 0, 0},
    // 409
    {"conflict", 409, R"({"error":"already logged in"})", "", 409, "Device is already logged in", 0, 0},
    {"conflict_no_body", 409, "", "", 409, "Device is already logged in", 0, 0},
    // 429
    {"rate_limited_no_retry_after", 429, "", "", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after", 429, R"({"error":"slow down"})", "10", 429,
     "Too many pairing requests", 0, 10},
    {"rate_limited_retry_after_spaces", 429, "", " 10 ", 429, "Too many pairing requests", 0, 10},
    {"rate_limited_retry_after_zero", 429, "", "0", 429, "Too many pairing requests", 0, 0},
    {"rate_limited_retry_after_max", 429, "", "86400", 429, "Too many pairing requests", 0, 86400},
    {"rate_limited_retry_after_leading_zeros", 429, "", "0030", 429, "Too many pairing requests",
     0, 30},
    {"rate_limited_retry_after_too_big", 429, "", "86401", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_overflow", 429, "", "99999999999999999999999", 429,
     "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_negative", 429, "", "-1", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_fraction", 429, "", "1.5", 429, "Too many pairing requests", 0, 30},
    {"rate_limited_retry_after_date", 429, "", "Wed, 21 Oct 2015 07:28:00 GMT", 429,
     "Too many pairing requests", 0, 30},
    // other 4xx
    {"bad_request_with_error", 400, R"({"error":"phone number is not on WhatsApp"})", "", 400,
     "phone number is not on WhatsApp", 0, 0},
    {"not_found_with_error", 404, R"({"error":"device not found"})", "", 400, "device not found",
     0, 0},
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
    const char* text;
};

void PrintTo(const TransportRow& row, std::ostream* os) { *os << row.code; }

class Transport : public testing::TestWithParam<TransportRow> {};

TEST_P(Transport, Maps)
{
    const PairCode answer = map_transport_failure(GetParam().failure);
    EXPECT_EQ(answer.failure.code, GetParam().code);
    EXPECT_EQ(answer.failure.error, GetParam().text);
    EXPECT_EQ(answer.code, "");
    EXPECT_EQ(answer.retry_after, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Transport,
    testing::Values(TransportRow{TransportFailure::unreachable, 503, "Pairing backend is unavailable"},
                    TransportRow{TransportFailure::timeout, 504,
                                 "Pairing backend did not answer in time"},
                    TransportRow{TransportFailure::bad_answer, 502,
                                 "Invalid answer from the pairing backend"},
                    TransportRow{TransportFailure::too_large, 502,
                                 "Invalid answer from the pairing backend"}));

}  // namespace
}  // namespace wa_pair
