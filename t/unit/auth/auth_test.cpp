// The Authorization decision (docs/contract.md): the credential in the header, then a JWT
// (verify_jwt and the revocation list) or an API key; the texts, the method and the claims
// forwarded to the backend.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <string>

#include "auth/auth.hpp"
#include "common/base64url.hpp"
#include "row_name.hpp"

#include "hs256.hpp"

namespace wa_pair {
namespace {

const std::string kSecret = "unit-test secret: 32 bytes long!";
constexpr std::time_t kNow = 1700000000;
const std::string kBadJwtText(kBadJwt);
const std::string kMissingAuthText(kMissingAuth);
constexpr const char *kHs256 = R"({"alg":"HS256","typ":"JWT"})";
constexpr const char *kDevice = R"({"device_id":"dev-42"})";

std::string mint(std::string_view header, std::string_view payload) {
    return testing_hs256::mint(kSecret, header, payload);
}

std::string sha256_hex(std::string_view key) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr);
    static const char *digits = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += digits[md[i] >> 4];
        hex += digits[md[i] & 15];
    }
    return hex;
}

std::shared_ptr<const ApiKeys> api_keys(const std::string &file) {
    auto parsed = std::make_shared<ApiKeysFile>(parse_api_keys_file(file));
    EXPECT_EQ(parsed->error, "");
    return std::shared_ptr<const ApiKeys>(parsed, &parsed->keys);
}

std::shared_ptr<const Revocations> revocations(const std::string &file) {
    auto parsed = std::make_shared<RevocationFile>(parse_revocation_file(file));
    EXPECT_EQ(parsed->error, "");
    return std::shared_ptr<const Revocations>(parsed, &parsed->list);
}

// The secret, two API keys, and dev-revoked's tokens below version 3 revoked.
AuthConfig full_config() {
    AuthConfig config;
    config.jwt.keys.push_back(hmac_key(kSecret));
    config.api_keys = api_keys(sha256_hex("sk_live_good") + " dev-key\n" + sha256_hex("sk_live_2nd") + " dev-key-2\n");
    config.revocations = revocations("dev-revoked 3\ndev-key 9\n");
    return config;
}

// ---------------------------------------------------------------------------------------------
// extract_credential and authenticate

struct CredentialRow {
    const char *header;
    const char *token;
};

void PrintTo(const CredentialRow &row, std::ostream *os) {
    *os << '"' << row.header << '"';
}

class ExtractCredential : public testing::TestWithParam<CredentialRow> {};

TEST_P(ExtractCredential, Finds) {
    EXPECT_EQ(extract_credential(GetParam().header), GetParam().token);
}

const CredentialRow kCredentials[] = {
    {"Bearer x", "x"},  {"bearer   x", "x"},   {"BEARER x", "x"},  {"BeArEr x", "x"},
    {"Bearer\tx", "x"}, {"  Bearer x  ", "x"}, {"x", "x"},         {" x ", "x"},
    {"a.b.c", "a.b.c"}, {"Basic abc", ""},     {"Basic", "Basic"},  // one word is a bare token; it is then not a JWT
    {"", ""},           {"   ", ""},           {"Bearer", ""},     {"bearer ", ""},
    {"Bearer a b", ""}, {"Bearer a\tb", ""},   {"Bearerx y", ""},  {"Token x", ""},
    {"x y", ""},
};

INSTANTIATE_TEST_SUITE_P(Table, ExtractCredential, testing::ValuesIn(kCredentials));

struct AuthRow {
    const char *name;
    std::string header;
    const char *device_id;  // on success
    std::string error;      // expected text on failure
    bool presented;
    std::string reason = {};              // on failure, the reason logged
    AuthMethod method = AuthMethod::jwt;  // on success
    std::string api_key_id = {};
    std::optional<std::uint64_t> version = {};
};

void PrintTo(const AuthRow &row, std::ostream *os) {
    *os << row.name;
}

class Authenticate : public testing::TestWithParam<AuthRow> {};

TEST_P(Authenticate, Decides) {
    const AuthRow &row = GetParam();
    static const AuthConfig config = full_config();
    const AuthResult result = authenticate(row.header, config, kNow);
    EXPECT_EQ(result.token_presented, row.presented);
    if (row.device_id != nullptr) {
        EXPECT_FALSE(result.failure) << result.reason;
        EXPECT_EQ(result.device_id, row.device_id);
        EXPECT_EQ(result.method, row.method);
        EXPECT_EQ(result.api_key_id, row.api_key_id);
        EXPECT_EQ(result.version, row.version);
    } else {
        EXPECT_EQ(result.failure.code, 401);
        EXPECT_EQ(result.failure.error, row.error);
        EXPECT_EQ(result.device_id, "");
        EXPECT_EQ(result.method, AuthMethod::none);
        EXPECT_FALSE(result.reason.empty());
        if (!row.reason.empty()) {
            EXPECT_EQ(result.reason, row.reason);
        }
    }
}

const std::string kGood = mint(kHs256, kDevice);
const AuthMethod kApiKey = AuthMethod::api_key;
const char *const kRevoked = "token version revoked";
const char *const kNoVersion = "device listed for revocation, token has no version";
const char *const kUnknownKey = "unknown API key";

std::string revoked_device(const std::string &version_member) {
    return mint(kHs256, R"({"device_id":"dev-revoked")" + version_member + "}");
}

const AuthRow kAuthRows[] = {
    {"bearer", "Bearer " + kGood, "dev-42", "", true},
    {"bearer_lower_spaces", "bearer   " + kGood, "dev-42", "", true},
    {"bearer_upper", "BEARER " + kGood, "dev-42", "", true},
    {"bare_token", kGood, "dev-42", "", true},
    {"trailing_space", "Bearer " + kGood + " ", "dev-42", "", true},
    {"no_header", "", nullptr, kMissingAuthText, false, "no Authorization header"},
    {"blank_header", "  ", nullptr, kMissingAuthText, false},
    {"basic", "Basic dXNlcjpwYXNz", nullptr, kMissingAuthText, true, "malformed Authorization header"},
    {"bearer_alone", "Bearer", nullptr, kMissingAuthText, true},
    {"bearer_two_words", "Bearer a b", nullptr, kMissingAuthText, true},
    {"bearer_not_a_jwt", "Bearer x", nullptr, kMissingAuthText, true, kUnknownKey},
    {"other_scheme_with_jwt", "Token " + kGood, nullptr, kMissingAuthText, true},
    {"bearer_bad_jwt", "Bearer a.b.c", nullptr, kBadJwtText, true},
    {"bare_bad_jwt", kGood + "x", nullptr, kBadJwtText, true},
    // API keys: the hash of the presented key is looked up; a credential with two dots is a JWT
    {"api_key_bare", "sk_live_good", "dev-key", "", true, "", kApiKey},
    {"api_key_bearer", "Bearer sk_live_good", "dev-key", "", true, "", kApiKey},
    {"api_key_bearer_any_case", "bEaReR   sk_live_good ", "dev-key", "", true, "", kApiKey},
    {"api_key_second_entry", "Bearer sk_live_2nd", "dev-key-2", "", true, "", kApiKey},
    {"api_key_unknown", "sk_live_0123456789abcdef", nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_other_case", "SK_LIVE_GOOD", nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_prefix", "sk_live_goo", nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_longer", "sk_live_goodx", nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_its_hash", sha256_hex("sk_live_good"), nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_one_dot", "sk.live", nullptr, kMissingAuthText, true, kUnknownKey},
    {"api_key_two_dots_is_a_jwt", "sk.live.good", nullptr, kBadJwtText, true},
    {"api_key_huge", std::string(5000, 'k'), nullptr, kMissingAuthText, true, kUnknownKey},
    // revocation: dev-revoked's tokens need version >= 3
    {"revoked_version_2", revoked_device(R"(,"version":2)"), nullptr, kBadJwtText, true, kRevoked},
    {"revoked_version_0", revoked_device(R"(,"version":0)"), nullptr, kBadJwtText, true, kRevoked},
    {"revoked_no_version", revoked_device(""), nullptr, kBadJwtText, true, kNoVersion},
    {"revoked_null_version", revoked_device(R"(,"version":null)"), nullptr, kBadJwtText, true, kNoVersion},
    {"revoked_version_string", revoked_device(R"(,"version":"3")"), nullptr, kBadJwtText, true,
     "version is not a non-negative integer"},
    {"revoked_version_float", revoked_device(R"(,"version":3.0)"), nullptr, kBadJwtText, true,
     "version is not a non-negative integer"},
    {"revoked_version_negative", revoked_device(R"(,"version":-3)"), nullptr, kBadJwtText, true,
     "version is not a non-negative integer"},
    {"revocation_minimum_accepted", revoked_device(R"(,"version":3)"), "dev-revoked", "", true, "", AuthMethod::jwt, "",
     3},
    {"revocation_above_minimum", revoked_device(R"(,"version":18446744073709551615)"), "dev-revoked", "", true, "",
     AuthMethod::jwt, "", 18446744073709551615ull},
    {"revocation_via_sub", mint(kHs256, R"({"sub":"dev-revoked","version":1})"), nullptr, kBadJwtText, true, kRevoked},
    {"unlisted_device_no_version", mint(kHs256, R"({"device_id":"dev-7"})"), "dev-7", "", true},
    {"unlisted_device_old_version", mint(kHs256, R"({"device_id":"dev-7","version":0})"), "dev-7", "", true, "",
     AuthMethod::jwt, "", 0},
    {"listed_api_key_device_not_revoked", "sk_live_good", "dev-key", "", true, "", kApiKey},
    // forwarded claims
    {"origin_claims", mint(kHs256, R"({"device_id":"d","api_key_id":7,"version":2})"), "d", "", true, "",
     AuthMethod::jwt, "7", 2},
    {"api_key_id_string", mint(kHs256, R"({"device_id":"d","api_key_id":"key-7"})"), "d", "", true, "", AuthMethod::jwt,
     "key-7"},
    {"api_key_id_null", mint(kHs256, R"({"device_id":"d","api_key_id":null})"), "d", "", true},
    {"api_key_id_with_space", mint(kHs256, R"({"device_id":"d","api_key_id":"a b"})"), nullptr, kBadJwtText, true,
     "api_key_id is malformed"},
    {"api_key_id_with_newline", mint(kHs256, R"({"device_id":"d","api_key_id":"a\r\nX-Evil: 1"})"), nullptr,
     kBadJwtText, true, "api_key_id is malformed"},
    {"api_key_id_object", mint(kHs256, R"({"device_id":"d","api_key_id":{"id":7}})"), nullptr, kBadJwtText, true,
     "api_key_id is malformed"},
    {"api_key_id_empty", mint(kHs256, R"({"device_id":"d","api_key_id":""})"), nullptr, kBadJwtText, true,
     "api_key_id is malformed"},
};

INSTANTIATE_TEST_SUITE_P(Table, Authenticate, testing::ValuesIn(kAuthRows), RowName());

TEST(Authenticate, WithoutApiKeysANonJwtIsMissingAuthentication) {
    AuthConfig config;
    config.jwt.keys.push_back(hmac_key(kSecret));
    const AuthResult result = authenticate("Bearer sk_live_good", config, kNow);
    EXPECT_EQ(result.failure.error, kMissingAuthText);
    EXPECT_EQ(result.reason, "not a JWT (needs exactly two dots) and no API keys");
    EXPECT_TRUE(result.token_presented);
}

TEST(Authenticate, ApiKeysOnlyRefuseEveryJwt) {
    AuthConfig config;
    config.api_keys = api_keys(sha256_hex("sk_live_good") + " dev-key\n");
    EXPECT_EQ(authenticate("sk_live_good", config, kNow).device_id, "dev-key");
    const AuthResult result = authenticate("Bearer " + kGood, config, kNow);
    EXPECT_EQ(result.failure.error, kBadJwtText);
    EXPECT_EQ(result.reason, "alg not allowed");
}

TEST(Authenticate, AnEmptyApiKeyFileKnowsNoKey) {
    AuthConfig config;
    config.api_keys = api_keys("# no keys yet\n");
    EXPECT_EQ(authenticate("sk_live_good", config, kNow).reason, kUnknownKey);
}

TEST(Authenticate, MethodNames) {
    EXPECT_EQ(auth_method_name(AuthMethod::jwt), "jwt");
    EXPECT_EQ(auth_method_name(AuthMethod::api_key), "api_key");
    EXPECT_EQ(auth_method_name(AuthMethod::none), "");
}

}  // namespace
}  // namespace wa_pair
