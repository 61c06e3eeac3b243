// The JSON scanner against nlohmann (through parse_json, the reader it replaces) as the
// independent oracle: for tricky texts, for every short text over JSON's alphabet, for every
// UTF-8 lead and escape combination, and for random mutations of realistic documents, both
// must accept and refuse alike and read the same members (json_oracle.hpp).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "json_oracle.hpp"

namespace wa_pair {
namespace {

using namespace std::string_literals;

// Stops a test at the first few disagreements instead of printing thousands.
class Disagreements {
public:
    void check(const std::string &text, int max_depth = kMaxJsonDepth) {
        ++checked_;
        const std::string diff = oracle::compare(text, max_depth);
        if (diff.empty()) return;
        if (++count_ <= 10) ADD_FAILURE() << diff << "\n  text: " << testing::PrintToString(text);
    }
    ~Disagreements() { EXPECT_GT(checked_, 0u); }

private:
    std::size_t count_ = 0;
    std::size_t checked_ = 0;
};

// Documents like the ones the scanner reads in production, and known traps.
const std::vector<std::string> kSeeds = {
    R"({"alg":"HS256","typ":"JWT"})",
    R"({"alg":"ES256","kid":"key-1","typ":"application/jwt"})",
    R"({"alg":"RS256","crit":["b64"],"b64":false})",
    R"({"device_id":"dev-42","sub":"user-1","api_key_id":7,"version":3,"iat":1700000000})",
    R"({"sub":12345678901234567890,"exp":1.7e9,"nbf":-0,"aud":["a","b"],"iss":"https://id.example"})",
    R"({"device_id":null,"sub":"x","aud":"","version":-0,"exp":1700000000.5})",
    R"({"phone":"6281234567890"})",
    R"({"phone":"+62 812-3456-7890","refresh":true})",
    R"({"phone":null,"refresh":null})",
    R"({"pair_code":"ABCD-1234","timeout":120})",
    R"({"pair_code":"ABCD1234","timeout":120.0,"extra":{"a":[1,2,{"b":null}]}})",
    R"({"error":"device not found"})",
    "{\"\\u0070hone\":\"\\u0036\\u0032\\ud83d\\ude00\",\"a\\/b\":\"\\\"\\\\\\b\\f\\n\\r\\t\"}",
    "\xEF\xBB\xBF{\"a\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}",
    "{\"a\":1}\0trailing"s,
    R"([1,-1,0,-0,1.5,1e5,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809])",
    R"({"a":[[[[[[[1]]]]]]]})",
    R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18})",
};

// Texts written to sit on an edge of the grammar.
const std::vector<std::string> kTricky = {
    "",
    " ",
    "{",
    "}",
    "[",
    "]",
    "{}",
    "[]",
    "\"\"",
    "\"",
    "0",
    "-",
    "-0",
    "00",
    "1.",
    ".1",
    "1e",
    "1e+",
    "1e-0",
    "1E+00",
    "-0.0",
    "0e0",
    "tru",
    "true",
    "truee",
    "nul",
    "null ",
    "false\n",
    "{}{}",
    "{} ",
    "\t{}\r\n",
    "{\"\":\"\"}",
    "{\"a\":}",
    "{\"a\"}",
    "{\"a\":1,}",
    "{,}",
    "[,]",
    "[1,]",
    "{\"a\":1 /**/}",
    "{\"a\":1}//",
    "{'a':1}",
    "{a:1}",
    "{\"a\":\"\\u\"}",
    "{\"a\":\"\\u123\"}",
    "{\"a\":\"\\uD800\"}",
    "{\"a\":\"\\uDC00\"}",
    "{\"a\":\"\\uD800\\u\"}",
    "{\"a\":\"\\uD800\\\"}",
    "{\"a\":\"\\uD800\\uD800\\uDC00\"}",
    "{\"a\":\"\\uDBFF\\uDFFF\"}",
    "\"\\u0000\"",
    "\0"s,
    "\0{}"s,
    "{}\0"s,
    "{}\0\0"s,
    "{} \0 x"s,
    "[1\0]"s,
    "1\0"s,
    "\"a\0\""s,
    "\xEF\xBB\xBF",
    "\xEF\xBB\xBF\0"s,
    "\xEF\xBB\xBF"
    "1",
    "\xEF\xBB\xBF\xEF\xBB\xBF"
    "1",
    "\xEF\xBB"
    "1",
    "\xEF"
    "1",
    "\xBB\xBF{}",
    "1e308",
    "1e309",
    "-1e309",
    "1e-324",
    "2.4703282292062328e-324",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692"
    "887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842"
    "914819860834936475292719074168444365510704342711559699508093042880177904174497791",
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692"
    "887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842"
    "914819860834936475292719074168444365510704342711559699508093042880177904174497792",
    "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "-9223372036854775808",
    "-9223372036854775809",
    "-18446744073709551616",
    "9223372036854775808",
    "{\"a\":1,\"a\":1}",
    "{\"a\":1,\"\\u0061\":1}",
    "{\"\\u0000\":1,\"\\u0000\":1}",
    "{\"\\u0000\":1,\"\":1}",
    "{\"\\ud83d\\ude00\":1,\"\xF0\x9F\x98\x80\":2}",
    "[{\"a\":1,\"a\":2}]",
    "{\"x\":{\"a\":1,\"a\":2}}",
};

TEST(JsonScanDiff, TrickyTexts) {
    Disagreements d;
    for (const std::string &t : kSeeds) d.check(t);
    for (const std::string &t : kTricky) {
        d.check(t);
        d.check("{\"v\":" + t + "}");
        d.check("[" + t + "]");
    }
}

// Every depth around the limit, for arrays, objects and both mixed, and other limits.
TEST(JsonScanDiff, Depths) {
    Disagreements d;
    for (int depth = 0; depth <= kMaxJsonDepth + 3; ++depth) {
        std::string arrays =
            std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
        d.check(arrays);
        d.check("{\"a\":" + arrays + "}");
        std::string mixed;
        std::string close;
        for (int i = 0; i < depth; ++i) {
            mixed += i % 2 ? "[" : "{\"k\":";
            close = (i % 2 ? "]" : "}") + close;
        }
        d.check(mixed + "1" + close);
        d.check("[" + mixed + "null" + close + "]");
        for (int limit = 0; limit <= 4; ++limit) d.check(arrays, limit);
    }
}

// Every text of up to 4 bytes over the bytes that matter to the grammar.
TEST(JsonScanDiff, AllShortTexts) {
    const std::string alphabet = "{}[]\":,1-0e.tn \\u\0"s;
    Disagreements d;
    std::vector<std::size_t> index;
    for (std::size_t len = 1; len <= 4; ++len) {
        index.assign(len, 0);
        for (;;) {
            std::string text;
            for (std::size_t i : index) text += alphabet[i];
            d.check(text);
            std::size_t k = 0;
            while (k < len && ++index[k] == alphabet.size()) index[k++] = 0;
            if (k == len) break;
        }
    }
}

// Every number-shaped text of up to 5 characters, bare, in an array and as a member.
TEST(JsonScanDiff, AllShortNumbers) {
    const std::string alphabet = "-+019.eE";
    Disagreements d;
    std::vector<std::size_t> index;
    for (std::size_t len = 1; len <= 5; ++len) {
        index.assign(len, 0);
        for (;;) {
            std::string text;
            for (std::size_t i : index) text += alphabet[i];
            d.check(text);
            d.check("[" + text + "]");
            d.check("{\"n\":" + text + "}");
            std::size_t k = 0;
            while (k < len && ++index[k] == alphabet.size()) index[k++] = 0;
            if (k == len) break;
        }
    }
}

// Every lead byte with every second byte and a spread of third and fourth bytes, in a string
// value and in a member name.
TEST(JsonScanDiff, Utf8Sequences) {
    const unsigned char spread[] = {0x00, 0x22, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    Disagreements d;
    for (int lead = 0x00; lead <= 0xFF; ++lead) {
        for (int second = 0x00; second <= 0xFF; ++second) {
            std::string bytes{static_cast<char>(lead), static_cast<char>(second)};
            d.check("{\"a\":\"" + bytes + "\"}");
            if (lead < 0xE0) continue;
            for (unsigned char third : spread) {
                const std::string three = bytes + static_cast<char>(third);
                d.check("{\"a\":\"" + three + "\"}");
                if (lead < 0xF0) continue;
                d.check("{\"" + three + "\x80\":1}");
                d.check("{\"" + three + "\xBF\":1}");
            }
        }
    }
}

// \u escapes: code units around every boundary, alone, in pairs, and cut short.
TEST(JsonScanDiff, UnicodeEscapes) {
    const char *units[] = {"0000", "001f", "0020", "0041", "007f", "0080", "07ff", "0800", "d7ff",
                           "D800", "d83d", "dbff", "DC00", "de00", "dfff", "e000", "fffe", "FFFF"};
    const char *tails[] = {"", "x", "\\", "\\u", "\\u00", "\\n", "\\\"", "\\uzzzz"};
    Disagreements d;
    for (const char *a : units) {
        d.check("{\"a\":\"\\u" + std::string(a) + "\"}");
        d.check("{\"\\u" + std::string(a) + "\":1}");
        for (const char *b : units) d.check("{\"a\":\"\\u" + std::string(a) + "\\u" + b + "\"}");
        for (const char *t : tails) d.check("{\"a\":\"\\u" + std::string(a) + t + "\"}");
    }
    for (int c = 0; c < 256; ++c) {
        d.check("{\"a\":\"\\" + std::string(1, static_cast<char>(c)) + "\"}");
        d.check("{\"a\":\"" + std::string(1, static_cast<char>(c)) + "\"}");
        d.check("{\"a\":" + std::string(1, static_cast<char>(c)) + "}");
        d.check(std::string(1, static_cast<char>(c)) + "{}");
        d.check("{}" + std::string(1, static_cast<char>(c)));
    }
}

// Random mutations of the seeds (oracle::mutate). A fixed seed: a failure reproduces.
TEST(JsonScanDiff, RandomMutations) {
    std::mt19937 rng(20261126);
    Disagreements d;
    for (int round = 0; round < 40000; ++round) {
        std::string text = kSeeds[rng() % kSeeds.size()];
        oracle::mutate(text, rng);
        d.check(text);
    }
}

}  // namespace
}  // namespace wa_pair
