// The request body: Content-Type and JSON/form parsing (README.md "What a client gets": the 400 and 415 texts).
#include <gtest/gtest.h>

#include <string>

#include "edge/login_body.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

constexpr const char *kNotJson = "Request body is not valid JSON";
constexpr const char *kNotObject = "Request body must be a JSON object";
constexpr const char *kNotForm = "Request body is not a valid form";
constexpr const char *kRequired = "Phone number is required";
constexpr const char *kNotString = "Phone number must be a string";
constexpr const char *kRefresh = "Field refresh must be a boolean";
constexpr const char *kDigitsOnly = "Phone number must contain digits only";
constexpr const char *kUnsupported = "Content-Type must be application/json or application/x-www-form-urlencoded";

struct ContentTypeRow {
    const char *name;
    const char *value;
    BodyType type;
};

void PrintTo(const ContentTypeRow &row, std::ostream *os) {
    *os << row.name;
}

class ContentType : public testing::TestWithParam<ContentTypeRow> {};

TEST_P(ContentType, Classifies) {
    EXPECT_EQ(classify_content_type(GetParam().value), GetParam().type);
}

const ContentTypeRow kContentTypes[] = {
    {"missing", "", BodyType::json},
    {"blank", "  ", BodyType::json},
    {"json", "application/json", BodyType::json},
    {"json_charset", "application/json; charset=utf-8", BodyType::json},
    {"json_upper_case", "APPLICATION/JSON", BodyType::json},
    {"json_spaces", " application/json ;charset=UTF-8", BodyType::json},
    {"json_trailing_semicolon", "application/json;", BodyType::json},
    {"vendor_json", "application/vnd.api+json", BodyType::json},
    {"json_patch", "application/merge-patch+json; charset=utf-8", BodyType::json},
    {"form", "application/x-www-form-urlencoded", BodyType::form},
    {"form_charset", "application/x-www-form-urlencoded; charset=UTF-8", BodyType::form},
    {"form_mixed_case", "Application/X-WWW-Form-Urlencoded", BodyType::form},
    {"text_plain", "text/plain", BodyType::unsupported},
    {"text_json", "text/json", BodyType::unsupported},
    {"multipart", "multipart/form-data; boundary=xyz", BodyType::unsupported},
    {"xml", "application/xml", BodyType::unsupported},
    {"jsonp", "application/jsonp", BodyType::unsupported},
    {"bare_plus_json", "application/+json", BodyType::unsupported},
    {"two_slashes_plus_json", "application/a/b+json", BodyType::unsupported},
    {"parameters_only", ";charset=utf-8", BodyType::unsupported},
    {"json_without_semicolon", "application/json charset=utf-8", BodyType::unsupported},
    {"octet_stream", "application/octet-stream", BodyType::unsupported},
};

INSTANTIATE_TEST_SUITE_P(Table, ContentType, testing::ValuesIn(kContentTypes), RowName());

struct BodyRow {
    const char *name;
    BodyType type;
    std::string body;
    const char *phone;  // expected digits, nullptr when a failure is expected
    bool refresh;
    int code;           // expected failure code (0 on success)
    const char *error;  // expected failure text
};

void PrintTo(const BodyRow &row, std::ostream *os) {
    *os << row.name;
}

class LoginBody : public testing::TestWithParam<BodyRow> {};

TEST_P(LoginBody, Parses) {
    const BodyRow &row = GetParam();
    const LoginRequest request = parse_login_body(row.type, row.body);
    if (row.phone != nullptr) {
        EXPECT_FALSE(request.failure) << request.failure.error;
        EXPECT_EQ(request.phone, row.phone);
        EXPECT_EQ(request.refresh, row.refresh);
    } else {
        EXPECT_EQ(request.failure.code, row.code);
        EXPECT_EQ(request.failure.error, row.error);
        EXPECT_EQ(request.phone, "");
    }
}

std::string nested_arrays(int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
}

constexpr BodyType J = BodyType::json;
constexpr BodyType F = BodyType::form;
constexpr BodyType U = BodyType::unsupported;
constexpr const char *kPhone = "6281234567890";

const BodyRow kBodies[] = {
    // JSON, accepted
    {"json_phone", J, R"({"phone":"6281234567890"})", kPhone, false, 0, nullptr},
    {"json_typed_phone", J, R"({"phone":"+62 812-3456-7890"})", kPhone, false, 0, nullptr},
    {"json_whitespace", J, " {\n \"phone\" : \"6281234567890\" \n}\n", kPhone, false, 0, nullptr},
    {"json_refresh_true", J, R"({"phone":"6281234567890","refresh":true})", kPhone, true, 0, nullptr},
    {"json_refresh_false", J, R"({"refresh":false,"phone":"6281234567890"})", kPhone, false, 0, nullptr},
    {"json_unknown_fields_ignored", J, R"({"phone":"6281234567890","device":{"a":[1,2]},"x":null})", kPhone, false, 0,
     nullptr},
    {"json_unicode_escape", J, R"({"phone":"\u0036281234567890"})", kPhone, false, 0, nullptr},
    {"json_bom", J, "\xef\xbb\xbf{\"phone\":\"6281234567890\"}", kPhone, false, 0, nullptr},
    {"json_depth_8", J, R"({"phone":"6281234567890","x":)" + nested_arrays(7) + "}", kPhone, false, 0, nullptr},
    // JSON, refused
    {"json_depth_9", J, R"({"phone":"6281234567890","x":)" + nested_arrays(8) + "}", nullptr, false, 400, kNotJson},
    {"json_depth_100000", J, nested_arrays(100000), nullptr, false, 400, kNotJson},
    {"json_not_json", J, "phone=6281234567890", nullptr, false, 400, kNotJson},
    {"json_unterminated", J, R"({"phone":"6281234567890")", nullptr, false, 400, kNotJson},
    {"json_trailing_garbage", J, R"({"phone":"6281234567890"} x)", nullptr, false, 400, kNotJson},
    {"json_two_objects", J, R"({"phone":"6281234567890"}{})", nullptr, false, 400, kNotJson},
    {"json_single_quotes", J, R"({'phone':'6281234567890'})", nullptr, false, 400, kNotJson},
    {"json_comment", J, "{\"phone\":\"6281234567890\" /* c */}", nullptr, false, 400, kNotJson},
    {"json_invalid_utf8", J, "{\"phone\":\"62812\xff\"}", nullptr, false, 400, kNotJson},
    {"json_duplicate_phone", J, R"({"phone":"6281234567890","phone":"6281234567891"})", nullptr, false, 400, kNotJson},
    {"json_duplicate_other_key", J, R"({"phone":"6281234567890","a":1,"a":2})", nullptr, false, 400, kNotJson},
    {"json_array", J, R"(["6281234567890"])", nullptr, false, 400, kNotObject},
    {"json_string", J, R"("6281234567890")", nullptr, false, 400, kNotObject},
    {"json_number", J, "6281234567890", nullptr, false, 400, kNotObject},
    {"json_null", J, "null", nullptr, false, 400, kNotObject},
    {"json_empty_body", J, "", nullptr, false, 400, kRequired},
    {"json_blank_body", J, " \r\n", nullptr, false, 400, kRequired},
    {"json_empty_object", J, "{}", nullptr, false, 400, kRequired},
    {"json_phone_null", J, R"({"phone":null})", nullptr, false, 400, kRequired},
    {"json_phone_empty", J, R"({"phone":""})", nullptr, false, 400, kRequired},
    {"json_phone_separators", J, R"({"phone":" - "})", nullptr, false, 400, kRequired},
    {"json_phone_other_case_key", J, R"({"Phone":"6281234567890"})", nullptr, false, 400, kRequired},
    {"json_phone_number", J, R"({"phone":6281234567890})", nullptr, false, 400, kNotString},
    {"json_phone_array", J, R"({"phone":["6281234567890"]})", nullptr, false, 400, kNotString},
    {"json_phone_object", J, R"({"phone":{"number":"6281234567890"}})", nullptr, false, 400, kNotString},
    {"json_phone_bool", J, R"({"phone":true})", nullptr, false, 400, kNotString},
    {"json_phone_letters", J, R"({"phone":"62812abc7890"})", nullptr, false, 400, kDigitsOnly},
    {"json_refresh_string", J, R"({"phone":"6281234567890","refresh":"yes"})", nullptr, false, 400, kRefresh},
    {"json_refresh_string_true", J, R"({"phone":"6281234567890","refresh":"true"})", nullptr, false, 400, kRefresh},
    {"json_refresh_number", J, R"({"phone":"6281234567890","refresh":1})", nullptr, false, 400, kRefresh},
    {"json_refresh_null", J, R"({"phone":"6281234567890","refresh":null})", nullptr, false, 400, kRefresh},
    {"json_phone_checked_before_refresh", J, R"({"refresh":"yes"})", nullptr, false, 400, kRequired},
    // form, accepted
    {"form_phone", F, "phone=6281234567890", kPhone, false, 0, nullptr},
    {"form_percent_plus", F, "phone=%2B62+812-3456-7890", kPhone, false, 0, nullptr},
    {"form_raw_plus_is_space", F, "phone=+6281234567890", kPhone, false, 0, nullptr},
    {"form_encoded_spaces", F, "phone=%2B62%20812%203456%207890", kPhone, false, 0, nullptr},
    {"form_lower_hex", F, "phone=%2b6281234567890", kPhone, false, 0, nullptr},
    {"form_refresh_true", F, "phone=6281234567890&refresh=true", kPhone, true, 0, nullptr},
    {"form_refresh_false", F, "refresh=false&phone=6281234567890", kPhone, false, 0, nullptr},
    {"form_empty_pairs", F, "&a=1&&phone=6281234567890&", kPhone, false, 0, nullptr},
    {"form_encoded_name", F, "%70hone=6281234567890", kPhone, false, 0, nullptr},
    {"form_unknown_fields", F, "device=x&phone=6281234567890&z", kPhone, false, 0, nullptr},
    // form, refused
    {"form_bad_percent", F, "phone=%ZZ6281234567890", nullptr, false, 400, kNotForm},
    {"form_truncated_percent", F, "phone=628123456789%2", nullptr, false, 400, kNotForm},
    {"form_lone_percent", F, "phone=6281234567890&x=%", nullptr, false, 400, kNotForm},
    {"form_bad_percent_in_name", F, "ph%one=6281234567890", nullptr, false, 400, kNotForm},
    {"form_duplicate_phone", F, "phone=6281234567890&phone=6281234567891", nullptr, false, 400, kNotForm},
    {"form_duplicate_refresh", F, "phone=6281234567890&refresh=true&refresh=false", nullptr, false, 400, kNotForm},
    {"form_empty_body", F, "", nullptr, false, 400, kRequired},
    {"form_no_phone", F, "refresh=true", nullptr, false, 400, kRequired},
    {"form_phone_empty", F, "phone=", nullptr, false, 400, kRequired},
    {"form_phone_without_value", F, "phone", nullptr, false, 400, kRequired},
    {"form_phone_nul", F, "phone=62812%0034567890", nullptr, false, 400, kDigitsOnly},
    {"form_zero_width_space", F, "phone=%E2%80%8B6281234567890", nullptr, false, 400, kDigitsOnly},
    // curl's -d without a Content-Type: a JSON object under the form type is read as JSON
    {"form_json_body", F, R"({"phone":"6281234567890"})", kPhone, false, 0, nullptr},
    {"form_json_body_curl_d", F, R"({"phone":"+62 812-3456-7890"})", kPhone, false, 0, nullptr},
    {"form_json_body_blank_first", F, " \n{\"phone\":\"6281234567890\",\"refresh\":true}", kPhone, true, 0, nullptr},
    {"form_json_body_bad_json", F, R"({"phone":"6281234567890")", nullptr, false, 400, kNotJson},
    {"form_json_body_no_phone", F, R"({"phone_number":"6281234567890"})", nullptr, false, 400, kRequired},
    {"form_array_is_a_form", F, R"(["6281234567890"])", nullptr, false, 400, kRequired},
    {"form_refresh_yes", F, "phone=6281234567890&refresh=yes", nullptr, false, 400, kRefresh},
    {"form_refresh_one", F, "phone=6281234567890&refresh=1", nullptr, false, 400, kRefresh},
    {"form_refresh_upper", F, "phone=6281234567890&refresh=TRUE", nullptr, false, 400, kRefresh},
    {"form_refresh_empty", F, "phone=6281234567890&refresh=", nullptr, false, 400, kRefresh},
    // unsupported media type, whatever the body
    {"unsupported_with_body", U, R"({"phone":"6281234567890"})", nullptr, false, 415, kUnsupported},
    {"unsupported_empty", U, "", nullptr, false, 415, kUnsupported},
};

INSTANTIATE_TEST_SUITE_P(Table, LoginBody, testing::ValuesIn(kBodies), RowName());

}  // namespace
}  // namespace wa_pair
