// The envelope's exact bytes (README.md, "What a client gets").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>

#include "edge/envelope.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

TEST(SuccessEnvelope, IsTheContractsBytes) {
    EXPECT_EQ(success_envelope("ABCD-1234", 120),
              R"({"status":true,"code":200,"message":"Pairing code generated successfully",)"
              R"("data":{"pair_code":"ABCD-1234","timeout":120}})");
    EXPECT_EQ(success_envelope("WXYZ-9876", 86400),
              R"({"status":true,"code":200,"message":"Pairing code generated successfully",)"
              R"("data":{"pair_code":"WXYZ-9876","timeout":86400}})");
}

struct ErrorRow {
    int code;
    std::string error;
    std::string bytes;
};

void PrintTo(const ErrorRow &row, std::ostream *os) {
    *os << row.code << " " << row.error;
}

class ErrorEnvelope : public testing::TestWithParam<ErrorRow> {};

TEST_P(ErrorEnvelope, IsExact) {
    EXPECT_EQ(error_envelope(GetParam().code, GetParam().error), GetParam().bytes);
}

// One row per code the module answers, with the text it answers.
const ErrorRow kErrors[] = {
    {400, "Phone number is required",
     R"({"status":false,"code":400,"message":"Bad request","error":"Phone number is required"})"},
    {401, "Invalid or missing authentication",
     R"({"status":false,"code":401,"message":"Unauthorized","error":"Invalid or missing authentication"})"},
    {401, "Invalid or expired JWT token",
     R"({"status":false,"code":401,"message":"Unauthorized","error":"Invalid or expired JWT token"})"},
    {405, "Only POST is allowed",
     R"({"status":false,"code":405,"message":"Method not allowed","error":"Only POST is allowed"})"},
    {408, "Request body was not received in time",
     R"({"status":false,"code":408,"message":"Request timeout","error":"Request body was not received in time"})"},
    {409, "Device is already logged in",
     R"({"status":false,"code":409,"message":"Conflict","error":"Device is already logged in"})"},
    {413, "Request body is too large",
     R"({"status":false,"code":413,"message":"Payload too large","error":"Request body is too large"})"},
    {415, "Content-Type must be application/json or application/x-www-form-urlencoded",
     R"({"status":false,"code":415,"message":"Unsupported media type","error":"Content-Type must be application/json or application/x-www-form-urlencoded"})"},
    {429, "Too many pairing requests",
     R"({"status":false,"code":429,"message":"Too many requests","error":"Too many pairing requests"})"},
    {500, "Failed to generate pairing code",
     R"({"status":false,"code":500,"message":"Internal server error","error":"Failed to generate pairing code"})"},
    {502, "Invalid answer from the pairing backend",
     R"({"status":false,"code":502,"message":"Bad gateway","error":"Invalid answer from the pairing backend"})"},
    {503, "Pairing backend is unavailable",
     R"({"status":false,"code":503,"message":"Service unavailable","error":"Pairing backend is unavailable"})"},
    {504, "Pairing backend did not answer in time",
     R"({"status":false,"code":504,"message":"Gateway timeout","error":"Pairing backend did not answer in time"})"},
    {414, "Request URI is too long",
     R"({"status":false,"code":414,"message":"Error","error":"Request URI is too long"})"},
    {400, "", R"({"status":false,"code":400,"message":"Bad request","error":""})"},
};

INSTANTIATE_TEST_SUITE_P(Table, ErrorEnvelope, testing::ValuesIn(kErrors));

struct EscapeRow {
    const char *name;
    std::string text;
    std::string json;  // the quoted JSON string expected in "error"
};

void PrintTo(const EscapeRow &row, std::ostream *os) {
    *os << row.name;
}

class Escaping : public testing::TestWithParam<EscapeRow> {};

TEST_P(Escaping, ErrorTextIsEscaped) {
    const EscapeRow &row = GetParam();
    const std::string envelope = error_envelope(400, row.text).value();
    EXPECT_EQ(envelope, R"({"status":false,"code":400,"message":"Bad request","error":)" + row.json + "}");
    // Whatever the bytes, the envelope is valid JSON a strict parser accepts.
    const auto parsed = nlohmann::json::parse(envelope, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << envelope;
    EXPECT_EQ(parsed.at("status"), false);
    EXPECT_EQ(parsed.at("code"), 400);
}

const EscapeRow kEscapes[] = {
    {"quote", "say \"hi\"", R"("say \"hi\"")"},
    {"backslash", "C:\\path\\", R"("C:\\path\\")"},
    {"slash_kept", "a/b", R"("a/b")"},
    {"short_escapes", "\b\f\n\r\t", R"("\b\f\n\r\t")"},
    {"other_controls", std::string("\x01\x1f\x7f\0", 4), R"("\u0001\u001f\u007f\u0000")"},
    {"utf8_two_bytes", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
    {"utf8_three_bytes", "\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\""},
    {"utf8_four_bytes", "\xf0\x9f\x93\xb1", "\"\xf0\x9f\x93\xb1\""},
    {"line_separators",
     "a\xe2\x80\xa8"
     "b\xe2\x80\xa9",
     R"("a\u2028b\u2029")"},
    {"invalid_byte",
     "a\xff"
     "b",
     R"("a\ufffdb")"},
    {"lone_continuation", "\x80", R"("\ufffd")"},
    {"truncated_sequence", "caf\xc3", R"("caf\ufffd")"},
    {"truncated_before_ascii",
     "\xe6\x97"
     "x",
     R"("\ufffd\ufffdx")"},
    {"overlong_slash", "\xc0\xaf", R"("\ufffd\ufffd")"},
    {"overlong_three_bytes", "\xe0\x80\xaf", R"("\ufffd\ufffd\ufffd")"},
    {"surrogate", "\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},
    {"above_u10ffff", "\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},
    {"json_injection", R"(x","status":true,"y":")", R"("x\",\"status\":true,\"y\":\"")"},
};

INSTANTIATE_TEST_SUITE_P(Table, Escaping, testing::ValuesIn(kEscapes), RowName());

TEST(Escaping, EveryByteGivesValidJson) {
    for (int byte = 0; byte < 256; ++byte) {
        const std::string text(1, static_cast<char>(byte));
        const auto parsed = nlohmann::json::parse(error_envelope(400, text).value(), nullptr, false);
        ASSERT_FALSE(parsed.is_discarded()) << "byte " << byte;
        if (byte < 0x80) {
            EXPECT_EQ(parsed.at("error"), text) << "byte " << byte;
        }
    }
}

struct MessageRow {
    int code;
    const char *message;
};

void PrintTo(const MessageRow &row, std::ostream *os) {
    *os << row.code;
}

class StatusMessage : public testing::TestWithParam<MessageRow> {};

TEST_P(StatusMessage, IsTheTable) {
    EXPECT_EQ(status_message(GetParam().code), GetParam().message);
}

const MessageRow kMessages[] = {
    {200, "Pairing code generated successfully"},
    {400, "Bad request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not found"},
    {405, "Method not allowed"},
    {408, "Request timeout"},
    {409, "Conflict"},
    {413, "Payload too large"},
    {415, "Unsupported media type"},
    {429, "Too many requests"},
    {500, "Internal server error"},
    {502, "Bad gateway"},
    {503, "Service unavailable"},
    {504, "Gateway timeout"},
    {0, "Error"},
    {201, "Error"},
    {414, "Error"},
    {418, "Error"},
    {499, "Error"},
    {501, "Error"},
    {-1, "Error"},
};

INSTANTIATE_TEST_SUITE_P(Table, StatusMessage, testing::ValuesIn(kMessages));

}  // namespace
}  // namespace wa_pair

namespace wa_pair {
namespace {

// error_envelope() writes the status messages unescaped: each must need no escaping.
TEST(StatusMessage, NeedsNoEscaping) {
    for (int code = 100; code < 600; ++code) {
        const std::string_view message = status_message(code);
        std::string escaped;
        append_json_string(escaped, message);
        EXPECT_EQ(escaped, "\"" + std::string(message) + "\"") << code;
    }
}

}  // namespace
}  // namespace wa_pair
