// base64url (RFC 7515 section 2): strict, one value one encoding.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/base64url.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

struct B64Row {
    const char *name;
    std::string encoded;
    std::string decoded;
};

void PrintTo(const B64Row &row, std::ostream *os) {
    *os << row.name;
}

class Base64Url : public testing::TestWithParam<B64Row> {};

TEST_P(Base64Url, RoundTrips) {
    EXPECT_EQ(base64url_decode(GetParam().encoded), GetParam().decoded);
    EXPECT_EQ(base64url_encode(GetParam().decoded), GetParam().encoded);
}

const B64Row kB64[] = {
    {"empty", "", ""},
    {"one_byte", "QQ", "A"},
    {"two_bytes", "QUI", "AB"},
    {"three_bytes", "QUJD", "ABC"},
    {"url_alphabet", "-_-_", "\xfb\xff\xbf"},
    {"all_bits", "AP8", std::string("\0\xff", 2)},
    {"jwt_header", "eyJhbGciOiJIUzI1NiJ9", R"({"alg":"HS256"})"},
};

INSTANTIATE_TEST_SUITE_P(Table, Base64Url, testing::ValuesIn(kB64), RowName());

class Base64UrlRefuses : public testing::TestWithParam<std::string> {};

TEST_P(Base64UrlRefuses, Input) {
    EXPECT_EQ(base64url_decode(GetParam()), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Table, Base64UrlRefuses,
                         testing::Values("QQ==", "QUI=", "=", "+_8", "/_8", "Q", "QUJDR",
                                         "QR",   // unused bits set: "QQ" is the one encoding
                                         "QUJ",  // idem for two bytes ("QUI")
                                         "QU I", "QUI\n", std::string("QU\0I", 4), "QUI\xc3\xa9", "Q.UI"));
}  // namespace
}  // namespace wa_pair
