// Token revocation by version (wa_pair_jwt_revocation_file).
#include <gtest/gtest.h>

#include <string>

#include "auth/revocation.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

TEST(Revocations, ListedDevicesNeedTheMinimumVersion) {
    const RevocationFile file = parse_revocation_file(
        "# device minimum-version\n"
        "dev-1 3\n"
        "\n"
        "  dev-2\t0\r\n"
        "7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10 18446744073709551615\n"
        "dev-4 007");
    ASSERT_EQ(file.error, "");
    EXPECT_EQ(file.list.size(), 4u);
    const Revocations &list = file.list;
    EXPECT_FALSE(list.allows("dev-1", std::nullopt));
    EXPECT_FALSE(list.allows("dev-1", 0));
    EXPECT_FALSE(list.allows("dev-1", 2));
    EXPECT_TRUE(list.allows("dev-1", 3));
    EXPECT_TRUE(list.allows("dev-1", 4));
    EXPECT_FALSE(list.allows("dev-2", std::nullopt));  // listed: a token without version is out
    EXPECT_TRUE(list.allows("dev-2", 0));
    EXPECT_FALSE(list.allows("7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10", 18446744073709551614ull));
    EXPECT_TRUE(list.allows("7b0e0c7e-3d1f-4a57-9c43-0d1c2a5e9f10", 18446744073709551615ull));
    EXPECT_FALSE(list.allows("dev-4", 6));
    EXPECT_TRUE(list.allows("dev-4", 7));
    // unlisted devices, and names that only resemble listed ones
    EXPECT_TRUE(list.allows("dev-3", std::nullopt));
    EXPECT_TRUE(list.allows("DEV-1", std::nullopt));
    EXPECT_TRUE(list.allows("dev-1 ", std::nullopt));
    EXPECT_TRUE(list.allows("", std::nullopt));
}

TEST(Revocations, EmptyFilesRevokeNothing) {
    for (const char *text : {"", "\n", "# nothing revoked\n"}) {
        const RevocationFile file = parse_revocation_file(text);
        EXPECT_EQ(file.error, "");
        EXPECT_TRUE(file.list.allows("dev-1", std::nullopt));
    }
}

struct Refusal {
    const char *name;
    std::string text;
    std::string error;
};

void PrintTo(const Refusal &row, std::ostream *os) {
    *os << row.name;
}

class RevocationFileRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(RevocationFileRefuses, Text) {
    const RevocationFile file = parse_revocation_file(GetParam().text);
    EXPECT_EQ(file.error, GetParam().error);
    EXPECT_EQ(file.list.size(), 0u) << "nothing of a refused file is kept";
}

const std::string kShape = "expected \"<device-id> <minimum-version>\"";
const std::string kVersion = "the minimum version is not a non-negative integer";
const std::string kDevice = "the device id is not 1..128 printable ASCII characters";

const Refusal kRefusals[] = {
    {"device_only", "dev-1\n", "line 1: " + kShape},
    {"three_fields", "dev-1 3 4\n", "line 1: " + kShape},
    {"inline_comment", "dev-1 3 # rotated\n", "line 1: " + kShape},
    {"negative", "dev-1 -1\n", "line 1: " + kVersion},
    {"plus", "dev-1 +1\n", "line 1: " + kVersion},
    {"float", "dev-1 1.0\n", "line 1: " + kVersion},
    {"hex", "dev-1 0x10\n", "line 1: " + kVersion},
    {"word", "dev-1 three\n", "line 1: " + kVersion},
    {"overflow", "dev-1 18446744073709551616\n", "line 1: " + kVersion},
    {"too_many_digits", "dev-1 000000000000000000001\n", "line 1: " + kVersion},
    {"swapped", "3 dev-1\n", "line 1: " + kVersion},
    {"device_129", std::string(129, 'd') + " 1\n", "line 1: " + kDevice},
    {"device_non_ascii", "d\xc3\xa9v 1\n", "line 1: " + kDevice},
    {"duplicate", "dev-1 1\ndev-2 1\n\ndev-1 2\n", "line 4: a device listed twice"},
    {"nul", std::string("dev-1 1\ndev\0 2\n", 15), "line 2: control character"},
    {"bad_line_after_good_ones", "dev-1 1\n# c\ndev-2 x\n", "line 3: " + kVersion},
};

INSTANTIATE_TEST_SUITE_P(Table, RevocationFileRefuses, testing::ValuesIn(kRefusals), RowName());

}  // namespace
}  // namespace wa_pair
