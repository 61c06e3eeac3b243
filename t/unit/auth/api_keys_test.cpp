// The API key file (wa_pair_api_keys_file) and the lookup of a presented key.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <string>

#include "auth/api_keys.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

std::string sha256_hex(std::string_view key, bool upper = false) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr);
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += digits[md[i] >> 4];
        hex += digits[md[i] & 15];
    }
    return hex;
}

const std::string kPlainKey = "sk_live_5f2b9c0e7d1a4e3b";

TEST(ApiKeysFile, ReadsHashesAndDevices) {
    const ApiKeysFile file = parse_api_keys_file(
        "\xef\xbb\xbf# wa-pair API keys: <sha256-hex-of-key> <device-id>\n"
        "\n" +
        sha256_hex("key-one") + " dev-1\n" + "   # an indented comment\n" + sha256_hex("key-two", true) +
        "\tdev-2\r\n" + "\t" + sha256_hex("key-three") + "   dev-1   \n" +  // a device may have several keys
        sha256_hex("key-four") + " " + std::string(128, 'd'));              // no final newline
    ASSERT_EQ(file.error, "");
    ASSERT_EQ(file.keys.entries().size(), 4u);
    ASSERT_NE(file.keys.find("key-one"), nullptr);
    EXPECT_EQ(*file.keys.find("key-one"), "dev-1");
    EXPECT_EQ(*file.keys.find("key-two"), "dev-2");  // hex in upper case
    EXPECT_EQ(*file.keys.find("key-three"), "dev-1");
    EXPECT_EQ(*file.keys.find("key-four"), std::string(128, 'd'));
}

TEST(ApiKeysFile, EmptyFilesAreNoError) {
    for (const char *text : {"", "\n\n", "# nothing yet\n", "   \t\n"}) {
        const ApiKeysFile file = parse_api_keys_file(text);
        EXPECT_EQ(file.error, "");
        EXPECT_TRUE(file.keys.entries().empty());
        EXPECT_EQ(file.keys.find("anything"), nullptr);
    }
}

TEST(ApiKeysFile, LookupIsExact) {
    const ApiKeysFile file = parse_api_keys_file(sha256_hex(kPlainKey) + " dev-1\n");
    ASSERT_EQ(file.error, "");
    EXPECT_NE(file.keys.find(kPlainKey), nullptr);
    for (const std::string &other :
         {std::string(), kPlainKey.substr(1), kPlainKey + " ", kPlainKey + "x", std::string("SK_LIVE_5F2B9C0E7D1A4E3B"),
          sha256_hex(kPlainKey), kPlainKey.substr(0, kPlainKey.size() - 1) + "c", std::string(2000, 'k')}) {
        EXPECT_EQ(file.keys.find(other), nullptr) << other;
    }
}

TEST(ApiKeysFile, EveryEntryCanMatch) {
    std::string text;
    for (int i = 0; i < 500; ++i) text += sha256_hex("key-" + std::to_string(i)) + " dev-" + std::to_string(i) + "\n";
    const ApiKeysFile file = parse_api_keys_file(text);
    ASSERT_EQ(file.error, "");
    for (int i : {0, 1, 250, 498, 499}) {
        ASSERT_NE(file.keys.find("key-" + std::to_string(i)), nullptr);
        EXPECT_EQ(*file.keys.find("key-" + std::to_string(i)), "dev-" + std::to_string(i));
    }
    EXPECT_EQ(file.keys.find("key-500"), nullptr);
}

struct Refusal {
    const char *name;
    std::string text;
    std::string error;
};

void PrintTo(const Refusal &row, std::ostream *os) {
    *os << row.name;
}

class ApiKeysFileRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(ApiKeysFileRefuses, Text) {
    const ApiKeysFile file = parse_api_keys_file(GetParam().text);
    EXPECT_EQ(file.error, GetParam().error);
    EXPECT_TRUE(file.keys.entries().empty()) << "nothing of a refused file is kept";
    // the message never repeats the content of a line: it may be a plain key
    EXPECT_EQ(file.error.find(kPlainKey), std::string::npos);
    EXPECT_EQ(file.error.find("dev-"), std::string::npos);
}

const std::string kHash = sha256_hex("key-one");
const std::string kPlain =
    "line 1: the first field is not the SHA-256 of a key in hex (64 digits); a plain key is refused: "
    "store printf %s KEY | sha256sum";
const std::string kPlain2 = "line 2" + kPlain.substr(6);

const Refusal kRefusals[] = {
    {"plain_key", kPlainKey + " dev-1\n", kPlain},
    {"plain_key_after_a_good_line", kHash + " dev-1\n" + kPlainKey + " dev-2\n", kPlain2},
    {"plain_key_alone", kPlainKey + "\n", kPlain},
    {"plain_key_of_64_chars", std::string(64, 'k') + " dev-1\n", kPlain},
    {"hash_63", kHash.substr(1) + " dev-1\n", kPlain},
    {"hash_65", kHash + "0 dev-1\n", kPlain},
    {"hash_with_prefix", "sha256:" + kHash + " dev-1\n", kPlain},
    {"hash_base64", "Y2tleS1vbmU2MjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA== dev-1\n", kPlain},
    {"hash_with_g", kHash.substr(0, 63) + "g dev-1\n", kPlain},
    {"comment_after_hash", kHash + "# dev-1\n", kPlain},
    {"no_device", kHash + "\n", "line 1: no device id after the key hash"},
    {"no_device_trailing_blank", kHash + " \t\n", "line 1: no device id after the key hash"},
    {"three_fields", kHash + " dev-1 extra\n", "line 1: more than two fields"},
    {"inline_comment", kHash + " dev-1 # Alice\n", "line 1: more than two fields"},
    {"device_129", kHash + " " + std::string(129, 'd') + "\n",
     "line 1: the device id is not 1..128 printable ASCII characters"},
    {"device_non_ascii", kHash + " d\xc3\xa9v\n", "line 1: the device id is not 1..128 printable ASCII characters"},
    {"duplicate_hash", kHash + " dev-1\n# again\n" + kHash + " dev-2\n", "line 3: a key hash listed twice"},
    {"duplicate_hash_other_case", kHash + " dev-1\n" + sha256_hex("key-one", true) + " dev-1\n",
     "line 2: a key hash listed twice"},
    {"nul_byte", kHash + std::string(" dev\0-1\n", 8), "line 1: control character"},
    {"vertical_tab", kHash + "\v dev-1\n", "line 1: control character"},
    {"lone_cr_in_line", kHash + " dev\r-1\n", "line 1: control character"},
};

INSTANTIATE_TEST_SUITE_P(Table, ApiKeysFileRefuses, testing::ValuesIn(kRefusals), RowName());

}  // namespace
}  // namespace wa_pair
