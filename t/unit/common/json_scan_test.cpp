// The JSON scanner (src/common/json_scan.hpp) on its own: the grammar, UTF-8, escapes and
// surrogates, numbers and their nlohmann classes, depth, repeated names, members and arrays.
// Each expectation here is also checked against nlohmann in json_scan_diff_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "common/json_scan.hpp"
#include "json_oracle.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using namespace std::string_literals;

JsonScan scan(std::string_view text, int max_depth = kMaxJsonDepth) {
    JsonObject object;
    return scan_json_object(text, object, max_depth);
}

struct GrammarRow {
    const char *name;
    std::string text;
    JsonScan expected;
};

void PrintTo(const GrammarRow &row, std::ostream *os) {
    *os << row.name;
}

class Grammar : public testing::TestWithParam<GrammarRow> {};

TEST_P(Grammar, AcceptsOrRefuses) {
    EXPECT_EQ(scan(GetParam().text), GetParam().expected) << GetParam().text;
    EXPECT_EQ(oracle::compare(GetParam().text), "") << GetParam().text;  // and nlohmann agrees
}

constexpr JsonScan kObject = JsonScan::object;
constexpr JsonScan kNotObject = JsonScan::not_object;
constexpr JsonScan kInvalid = JsonScan::invalid;

const GrammarRow kGrammar[] = {
    // Documents
    {"empty_object", "{}", kObject},
    {"object_with_blanks", " \t\r\n{ \t\r\n\"a\" \t:\n1 , \"b\":[ ] }\r\n ", kObject},
    {"empty", "", kInvalid},
    {"blanks_only", " \n\t\r", kInvalid},
    {"array", "[1,2]", kNotObject},
    {"string", "\"x\"", kNotObject},
    {"number", "12", kNotObject},
    {"true", "true", kNotObject},
    {"null", "null", kNotObject},
    {"vertical_tab_is_no_blank", "\v{}", kInvalid},
    {"form_feed_is_no_blank", "{}\f", kInvalid},
    {"nbsp_is_no_blank", "\xC2\xA0{}", kInvalid},
    // Trailing bytes, and nlohmann's NUL: where a token would start, it ends the input
    {"trailing_object", "{}{}", kInvalid},
    {"trailing_garbage", "{} x", kInvalid},
    {"trailing_comma", "{},", kInvalid},
    {"nul_after_value", "{}\0garbage"s, kObject},
    {"nul_after_blanks", "{\"a\":1}  \0\xff"s, kObject},
    {"nul_after_number", "12\0x"s, kNotObject},
    {"nul_first", "\0{}"s, kInvalid},
    {"nul_inside_object", "{\0}"s, kInvalid},
    {"nul_inside_string", "{\"a\0\":1}"s, kInvalid},
    {"nul_inside_literal", "tr\0ue"s, kInvalid},
    // Byte order mark: skipped once, at the start, only whole
    {"bom", "\xEF\xBB\xBF{}", kObject},
    {"bom_blank", "\xEF\xBB\xBF \n{}", kObject},
    {"bom_twice", "\xEF\xBB\xBF\xEF\xBB\xBF{}", kInvalid},
    {"bom_after_blank", " \xEF\xBB\xBF{}", kInvalid},
    {"bom_truncated", "\xEF\xBB{}", kInvalid},
    {"bom_alone", "\xEF\xBB\xBF", kInvalid},
    {"bom_lead_only", "\xEF", kInvalid},
    // Objects
    {"member_without_colon", "{\"a\" 1}", kInvalid},
    {"member_without_value", "{\"a\":}", kInvalid},
    {"trailing_member_comma", "{\"a\":1,}", kInvalid},
    {"leading_member_comma", "{,\"a\":1}", kInvalid},
    {"double_comma", "{\"a\":1,,\"b\":2}", kInvalid},
    {"unquoted_name", "{a:1}", kInvalid},
    {"single_quoted_name", "{'a':1}", kInvalid},
    {"number_name", "{1:1}", kInvalid},
    {"unclosed_object", "{\"a\":1", kInvalid},
    {"unclosed_empty_object", "{", kInvalid},
    {"object_closed_by_bracket", "{\"a\":1]", kInvalid},
    {"missing_comma", "{\"a\":1 \"b\":2}", kInvalid},
    // Arrays
    {"nested_array", "{\"a\":[1,[2,{}],\"x\",null]}", kObject},
    {"trailing_item_comma", "[1,]", kInvalid},
    {"leading_item_comma", "[,1]", kInvalid},
    {"missing_item", "[1,,2]", kInvalid},
    {"unclosed_array", "[1", kInvalid},
    {"array_closed_by_brace", "[1}", kInvalid},
    // Literals
    {"true_false_null", "{\"a\":true,\"b\":false,\"c\":null}", kObject},
    {"capital_true", "{\"a\":True}", kInvalid},
    {"truncated_null", "{\"a\":nul}", kInvalid},
    {"truncated_true_at_end", "tru", kInvalid},
    {"literal_run_on", "{\"a\":truex}", kInvalid},
    {"nan", "{\"a\":NaN}", kInvalid},
    {"infinity", "{\"a\":Infinity}", kInvalid},
    {"undefined", "{\"a\":undefined}", kInvalid},
    // Comments (nlohmann's ignore_comments is off)
    {"line_comment", "{} // x", kInvalid},
    {"block_comment", "{/* x */}", kInvalid},
    {"hash_comment", "# x\n{}", kInvalid},
    // Strings: control characters and escapes
    {"raw_tab", "{\"a\":\"\t\"}", kInvalid},
    {"raw_newline", "{\"a\":\"\n\"}", kInvalid},
    {"raw_0x1f", "{\"a\":\"\x1f\"}", kInvalid},
    {"raw_del", "{\"a\":\"\x7f\"}", kObject},
    {"short_escapes", "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", kObject},
    {"escape_a", "{\"a\":\"\\a\"}", kInvalid},
    {"escape_single_quote", "{\"a\":\"\\'\"}", kInvalid},
    {"escape_zero", "{\"a\":\"\\0\"}", kInvalid},
    {"escape_x", "{\"a\":\"\\x41\"}", kInvalid},
    {"escape_at_end", "{\"a\":\"\\", kInvalid},
    {"unterminated_string", "{\"a\":\"abc", kInvalid},
    {"u_lower_hex", "{\"a\":\"\\u00e9\"}", kObject},
    {"u_upper_hex", "{\"a\":\"\\u00E9\"}", kObject},
    {"u_nul", "{\"a\":\"\\u0000\"}", kObject},
    {"u_three_digits", "{\"a\":\"\\u00e\"}", kInvalid},
    {"u_non_hex", "{\"a\":\"\\u00g0\"}", kInvalid},
    {"u_capital_U", "{\"a\":\"\\U00e9\"}", kInvalid},
    {"u_truncated_at_end", "\"\\u12", kInvalid},
    // Surrogates in \u escapes
    {"surrogate_pair", "{\"a\":\"\\ud83d\\ude00\"}", kObject},
    {"surrogate_pair_upper", "{\"a\":\"\\uD83D\\uDE00\"}", kObject},
    {"surrogate_pair_edges", "{\"a\":\"\\uD800\\uDC00\\uDBFF\\uDFFF\"}", kObject},
    {"lone_high", "{\"a\":\"\\ud83d\"}", kInvalid},
    {"lone_high_then_text", "{\"a\":\"\\ud83dx\"}", kInvalid},
    {"lone_low", "{\"a\":\"\\ude00\"}", kInvalid},
    {"low_then_high", "{\"a\":\"\\ude00\\ud83d\"}", kInvalid},
    {"high_high", "{\"a\":\"\\ud83d\\ud83d\"}", kInvalid},
    {"high_then_short_escape", "{\"a\":\"\\ud83d\\n\"}", kInvalid},
    {"high_then_bad_hex", "{\"a\":\"\\ud83d\\uzzzz\"}", kInvalid},
    {"high_then_bmp", "{\"a\":\"\\ud83d\\u0041\"}", kInvalid},
    {"high_then_raw_low_utf8", "{\"a\":\"\\ud83d\xED\xB8\x80\"}", kInvalid},
    {"just_below_surrogates", "{\"a\":\"\\ud7ff\\ue000\"}", kObject},
    // UTF-8 inside strings (RFC 3629 well-formed only)
    {"utf8_two", "{\"a\":\"\xC3\xA9\"}", kObject},
    {"utf8_three", "{\"a\":\"\xE2\x82\xAC\"}", kObject},
    {"utf8_four", "{\"a\":\"\xF0\x9F\x98\x80\"}", kObject},
    {"utf8_max", "{\"a\":\"\xF4\x8F\xBF\xBF\"}", kObject},
    {"utf8_above_max", "{\"a\":\"\xF4\x90\x80\x80\"}", kInvalid},
    {"utf8_f5", "{\"a\":\"\xF5\x80\x80\x80\"}", kInvalid},
    {"utf8_ff", "{\"a\":\"\xFF\"}", kInvalid},
    {"utf8_overlong_c0", "{\"a\":\"\xC0\xAF\"}", kInvalid},
    {"utf8_overlong_c1", "{\"a\":\"\xC1\xBF\"}", kInvalid},
    {"utf8_overlong_e0", "{\"a\":\"\xE0\x9F\xBF\"}", kInvalid},
    {"utf8_smallest_e0", "{\"a\":\"\xE0\xA0\x80\"}", kObject},
    {"utf8_overlong_f0", "{\"a\":\"\xF0\x8F\xBF\xBF\"}", kInvalid},
    {"utf8_smallest_f0", "{\"a\":\"\xF0\x90\x80\x80\"}", kObject},
    {"utf8_surrogate_ed_a0", "{\"a\":\"\xED\xA0\x80\"}", kInvalid},
    {"utf8_last_before_surrogates", "{\"a\":\"\xED\x9F\xBF\"}", kObject},
    {"utf8_lone_continuation", "{\"a\":\"\x80\"}", kInvalid},
    {"utf8_truncated_two", "{\"a\":\"\xC3\"}", kInvalid},
    {"utf8_truncated_three", "{\"a\":\"\xE2\x82\"}", kInvalid},
    {"utf8_truncated_four", "{\"a\":\"\xF0\x9F\x98\"}", kInvalid},
    {"utf8_bad_second", "{\"a\":\"\xE2\x28\xA1\"}", kInvalid},
    {"utf8_bad_third", "{\"a\":\"\xE2\x82\x28\"}", kInvalid},
    {"utf8_bad_fourth", "{\"a\":\"\xF0\x9F\x98\x28\"}", kInvalid},
    {"utf8_at_end_of_text", "\"\xE2\x82", kInvalid},
    {"utf8_in_name", "{\"\xC3\xA9\":1}", kObject},
    {"bad_utf8_in_name", "{\"\xC3\":1}", kInvalid},
    {"utf8_outside_string", "{\"a\":1}\xC3\xA9", kInvalid},
    // Numbers: RFC 8259's grammar
    {"zero", "0", kNotObject},
    {"minus_zero", "-0", kNotObject},
    {"leading_zero", "01", kInvalid},
    {"minus_leading_zero", "-01", kInvalid},
    {"leading_plus", "+1", kInvalid},
    {"bare_minus", "-", kInvalid},
    {"minus_letter", "-a", kInvalid},
    {"leading_dot", ".5", kInvalid},
    {"trailing_dot", "1.", kInvalid},
    {"dot_exponent", "1.e5", kInvalid},
    {"bare_exponent", "1e", kInvalid},
    {"exponent_sign_only", "1e+", kInvalid},
    {"exponent_forms", "[1e5,1E5,1e+5,1e-5,1.5e05,0.0,-0.0e0]", kNotObject},
    {"hex", "0x10", kInvalid},
    {"two_dots", "1.2.3", kInvalid},
    {"number_then_letter", "[1a]", kInvalid},
    {"number_then_literal", "[1true]", kInvalid},
    {"double_minus", "--1", kInvalid},
    // A float that overflows a double is refused (nlohmann's "number overflow"), at any depth;
    // one that underflows is not
    {"float_overflow", "{\"a\":1e309}", kInvalid},
    {"float_overflow_negative", "{\"a\":-1e309}", kInvalid},
    {"float_overflow_nested", "{\"a\":[[1.8e308]]}", kInvalid},
    {"float_max", "{\"a\":1.7976931348623157e308}", kObject},
    {"float_underflow", "{\"a\":1e-400}", kObject},
    {"integer_overflowing_double", "{\"a\":1" + std::string(309, '0') + "}", kInvalid},
    {"integer_long_but_finite", "{\"a\":1" + std::string(300, '0') + "}", kObject},
    // Repeated top-level names (decoded), and only top-level ones
    {"repeated_name", "{\"a\":1,\"a\":1}", kInvalid},
    {"repeated_name_escaped", "{\"a\":1,\"\\u0061\":2}", kInvalid},
    {"repeated_name_solidus", "{\"a/b\":1,\"a\\/b\":2}", kInvalid},
    {"repeated_name_far", "{\"a\":1,\"b\":2,\"c\":3,\"a\":4}", kInvalid},
    {"repeated_empty_name", "{\"\":1,\"\":2}", kInvalid},
    {"names_differ_by_case", "{\"a\":1,\"A\":2}", kObject},
    {"repeated_nested_name", "{\"a\":{\"b\":1,\"b\":2}}", kObject},
    {"repeated_name_in_array_object", "[{\"b\":1,\"b\":2}]", kNotObject},
    {"repeated_name_then_invalid", "{\"a\":1,\"a\":2,}", kInvalid},
};

INSTANTIATE_TEST_SUITE_P(Table, Grammar, testing::ValuesIn(kGrammar), RowName());

// Depth: kMaxJsonDepth containers one inside the other are accepted, one more is refused.
std::string nested(int depth, char open, char close) {
    return std::string(static_cast<std::size_t>(depth), open) + std::string(static_cast<std::size_t>(depth), close);
}

std::string nested_objects(int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += i + 1 < depth ? "{\"a\":" : "{";
    return text + std::string(static_cast<std::size_t>(depth), '}');
}

TEST(JsonScanDepth, CountsContainersOpen) {
    EXPECT_EQ(scan(nested(kMaxJsonDepth, '[', ']')), kNotObject);
    EXPECT_EQ(scan(nested(kMaxJsonDepth + 1, '[', ']')), kInvalid);
    EXPECT_EQ(scan(nested_objects(kMaxJsonDepth)), kObject);
    EXPECT_EQ(scan(nested_objects(kMaxJsonDepth + 1)), kInvalid);
    EXPECT_EQ(scan("{\"a\":" + nested(kMaxJsonDepth - 1, '[', ']') + "}"), kObject);
    EXPECT_EQ(scan("{\"a\":" + nested(kMaxJsonDepth, '[', ']') + "}"), kInvalid);
    // A deep document is refused before its end is read: 100,000 brackets, no recursion.
    EXPECT_EQ(scan(std::string(100000, '[')), kInvalid);
    EXPECT_EQ(scan("{}", 0), kInvalid);
    EXPECT_EQ(scan("1", 0), kNotObject);
    EXPECT_EQ(scan("{\"a\":[]}", 1), kInvalid);
    EXPECT_EQ(scan("{\"a\":1}", 1), kObject);
}

// Numbers: nlohmann's class and value.
struct NumberRow {
    const char *name;
    const char *text;
    JsonNumber number;
    double as_double;
};

void PrintTo(const NumberRow &row, std::ostream *os) {
    *os << row.name;
}

class Numbers : public testing::TestWithParam<NumberRow> {};

TEST_P(Numbers, Classifies) {
    const NumberRow &row = GetParam();
    JsonObject object;
    const std::string text = "{\"n\":" + std::string(row.text) + "}";  // the views point into it
    ASSERT_EQ(scan_json_object(text, object), kObject);
    const JsonValue *n = object.find("n");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->kind, JsonKind::number);
    EXPECT_EQ(n->raw, row.text);
    EXPECT_EQ(n->number, row.number);
    EXPECT_EQ(n->is_integer(), row.number != JsonNumber::floating);
    EXPECT_EQ(n->as_double(), row.as_double);
    EXPECT_EQ(std::signbit(n->as_double()), std::signbit(row.as_double));
}

constexpr JsonNumber kUnsigned = JsonNumber::unsigned_integer;
constexpr JsonNumber kInteger = JsonNumber::integer;
constexpr JsonNumber kFloat = JsonNumber::floating;

const NumberRow kNumbers[] = {
    {"zero", "0", kUnsigned, 0.0},
    {"one", "1", kUnsigned, 1.0},
    {"unix_time", "1700000000", kUnsigned, 1700000000.0},
    {"uint64_max", "18446744073709551615", kUnsigned, 18446744073709551615.0},
    {"uint64_max_plus_one", "18446744073709551616", kFloat, 18446744073709551616.0},
    {"twenty_one_digits", "100000000000000000000", kFloat, 1e20},
    {"minus_zero", "-0", kInteger, 0.0},
    {"minus_one", "-1", kInteger, -1.0},
    {"int64_min", "-9223372036854775808", kInteger, -9223372036854775808.0},
    {"int64_min_minus_one", "-9223372036854775809", kFloat, -9223372036854775809.0},
    {"minus_uint64_max", "-18446744073709551615", kFloat, -18446744073709551615.0},
    {"int64_max", "9223372036854775807", kUnsigned, 9223372036854775807.0},
    {"fraction", "1.5", kFloat, 1.5},
    {"integral_fraction", "120.0", kFloat, 120.0},
    {"minus_zero_float", "-0.0", kFloat, -0.0},
    {"exponent", "1e2", kFloat, 100.0},
    {"exponent_capital_plus", "1E+2", kFloat, 100.0},
    {"negative_exponent", "25e-1", kFloat, 2.5},
    {"minus_zero_exponent", "-0e0", kFloat, -0.0},
    {"underflow", "1e-400", kFloat, 0.0},
    {"denormal", "5e-324", kFloat, 5e-324},
    {"double_max", "1.7976931348623157e308", kFloat, 1.7976931348623157e308},
};

INSTANTIATE_TEST_SUITE_P(Table, Numbers, testing::ValuesIn(kNumbers), RowName());

TEST(JsonScanNumbers, KeepsExactIntegers) {
    JsonObject object;
    ASSERT_EQ(scan_json_object("{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"z\":-0}", object), kObject);
    EXPECT_EQ(object.find("u")->unsigned_value, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(object.find("i")->integer_value, std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(object.find("z")->integer_value, 0);
}

// Strings: decoded on demand; the view is the raw text between the quotes.
struct StringRow {
    const char *name;
    std::string json;  // the string literal, quotes included
    std::string decoded;
    bool escaped;
};

void PrintTo(const StringRow &row, std::ostream *os) {
    *os << row.name;
}

class Strings : public testing::TestWithParam<StringRow> {};

TEST_P(Strings, Decode) {
    const StringRow &row = GetParam();
    JsonObject object;
    const std::string text = "{\"s\":" + row.json + "}";  // the views point into it
    ASSERT_EQ(scan_json_object(text, object), kObject);
    const JsonValue *s = object.find("s");
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->is_string());
    EXPECT_EQ(s->escaped, row.escaped);
    EXPECT_EQ(s->raw, row.json.substr(1, row.json.size() - 2));
    EXPECT_EQ(s->string(), row.decoded);
    EXPECT_TRUE(s->string_equals(row.decoded));
    EXPECT_FALSE(s->string_equals(row.decoded + "x"));
    std::string out = "stale";
    decode_json_string(s->raw, out);
    EXPECT_EQ(out, row.decoded);
    std::string scratch;
    EXPECT_EQ(s->decoded(scratch), row.decoded);
    if (!row.escaped) {
        EXPECT_EQ(s->decoded(scratch).data(), s->raw.data());  // no copy
    }
}

const StringRow kStrings[] = {
    {"empty", "\"\"", "", false},
    {"plain", "\"dev-42\"", "dev-42", false},
    {"utf8_kept", "\"caf\xC3\xA9\"", "caf\xC3\xA9", false},
    {"quote", "\"a\\\"b\"", "a\"b", true},
    {"short_escapes", "\"\\\\\\/\\b\\f\\n\\r\\t\"", "\\/\b\f\n\r\t", true},
    {"u_ascii", "\"\\u0041\"", "A", true},
    {"u_nul", "\"a\\u0000b\"", "a\0b"s, true},
    {"u_two_bytes", "\"\\u00e9\"", "\xC3\xA9", true},
    {"u_07ff", "\"\\u07FF\"", "\xDF\xBF", true},
    {"u_three_bytes", "\"\\u20ac\"", "\xE2\x82\xAC", true},
    {"u_ffff", "\"\\uffff\"", "\xEF\xBF\xBF", true},
    {"surrogate_pair", "\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80", true},
    {"smallest_pair", "\"\\ud800\\udc00\"", "\xF0\x90\x80\x80", true},
    {"largest_pair", "\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF", true},
    {"mixed", "\"x\\ty\\u00e9z\"", "x\ty\xC3\xA9z", true},
};

INSTANTIATE_TEST_SUITE_P(Table, Strings, testing::ValuesIn(kStrings), RowName());

TEST(JsonScanMembers, KeepsKindsAndRawSpans) {
    JsonObject object;
    ASSERT_EQ(scan_json_object(R"({"s":"x","t":true,"f":false,"z":null,"a":[1, "b"],"o":{"k":{}},"e":[ ]})", object),
              kObject);
    ASSERT_EQ(object.size(), 7u);
    EXPECT_EQ(object.find("t")->kind, JsonKind::boolean);
    EXPECT_TRUE(object.find("t")->boolean);
    EXPECT_FALSE(object.find("f")->boolean);
    EXPECT_TRUE(object.find("z")->is_null());
    EXPECT_EQ(object.find("a")->raw, "[1, \"b\"]");
    EXPECT_FALSE(object.find("a")->empty_container());
    EXPECT_EQ(object.find("o")->raw, "{\"k\":{}}");
    EXPECT_EQ(object.find("o")->kind, JsonKind::object);
    EXPECT_TRUE(object.find("e")->empty_container());
    EXPECT_EQ(object.find("missing"), nullptr);
    EXPECT_EQ(object.find("S"), nullptr);
    const char *names[] = {"s", "t", "f", "z", "a", "o", "e"};  // in the order written
    std::size_t i = 0;
    for (const JsonMember &m : object) EXPECT_EQ(m.name, names[i++]);
}

TEST(JsonScanMembers, DecodesEscapedNames) {
    JsonObject object;
    ASSERT_EQ(scan_json_object(R"({"\u0064evice_id":"a","x\/y":1,"plain":2})", object), kObject);
    EXPECT_NE(object.find("device_id"), nullptr);
    EXPECT_NE(object.find("x/y"), nullptr);
    EXPECT_NE(object.find("plain"), nullptr);
    EXPECT_EQ(object.find("\\u0064evice_id"), nullptr);
}

TEST(JsonScanMembers, ManyMembersSpillAndStillRefuseRepeats) {
    std::string text = "{";
    for (int i = 0; i < 200; ++i) {
        text +=
            (i ? ",\"" : "\"") + std::string(i % 2 ? "\\u006b" : "k") + std::to_string(i) + "\":" + std::to_string(i);
    }
    JsonObject object;
    text += '}';
    ASSERT_EQ(scan_json_object(text, object), kObject);
    ASSERT_EQ(object.size(), 200u);
    for (int i = 0; i < 200; ++i) {
        const JsonValue *v = object.find("k" + std::to_string(i));
        ASSERT_NE(v, nullptr) << i;
        EXPECT_EQ(v->unsigned_value, static_cast<std::uint64_t>(i));
    }
    text.pop_back();
    EXPECT_EQ(scan_json_object(text + ",\"k7\":0}", object), kInvalid);
    EXPECT_EQ(scan_json_object(text + ",\"\\u006b150\":0}", object), kInvalid);
}

TEST(JsonScanMembers, ReusedObjectForgetsEarlierMembers) {
    JsonObject object;
    ASSERT_EQ(scan_json_object(R"({"a":1,"b":2})", object), kObject);
    ASSERT_EQ(scan_json_object(R"({"c":3})", object), kObject);
    EXPECT_EQ(object.size(), 1u);
    EXPECT_EQ(object.find("a"), nullptr);
}

TEST(JsonScanArrays, IteratesItems) {
    JsonObject object;
    ASSERT_EQ(scan_json_object(R"({"aud":[ "a" , "\u0062",1,[2,3],{"x":[]},null ],"e":[],"s":"x"})", object), kObject);
    JsonArrayItems items(*object.find("aud"));
    JsonValue item;
    ASSERT_TRUE(items.next(item));
    EXPECT_TRUE(item.string_equals("a"));
    ASSERT_TRUE(items.next(item));
    EXPECT_TRUE(item.string_equals("b"));
    ASSERT_TRUE(items.next(item));
    EXPECT_EQ(item.unsigned_value, 1u);
    ASSERT_TRUE(items.next(item));
    EXPECT_EQ(item.raw, "[2,3]");
    ASSERT_TRUE(items.next(item));
    EXPECT_EQ(item.raw, "{\"x\":[]}");
    ASSERT_TRUE(items.next(item));
    EXPECT_TRUE(item.is_null());
    EXPECT_FALSE(items.next(item));
    EXPECT_FALSE(items.next(item));

    JsonArrayItems empty(*object.find("e"));
    EXPECT_FALSE(empty.next(item));
    JsonArrayItems not_array(*object.find("s"));
    EXPECT_FALSE(not_array.next(item));
}

}  // namespace
}  // namespace wa_pair
