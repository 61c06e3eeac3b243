// Keys from identity providers (jwks.hpp), and tokens verified with fetched keys beside the
// configured ones (verify_jwt's `fetched`).
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "jose/jwks.hpp"
#include "jose/jwt.hpp"
#include "row_name.hpp"
#include "test_keys.hpp"

namespace wa_pair {
namespace {

using test::jwk;
using test::mint;
using test::test_key;

// ---------------------------------------------------------------- URLs

struct UrlRow {
    const char *name;
    const char *url;
    const char *host;  // when accepted
    bool tls;
    const char *error;  // a part of the error, "" when accepted
};

void PrintTo(const UrlRow &row, std::ostream *os) {
    *os << row.name;
}

class FetchUrlCheck : public testing::TestWithParam<UrlRow> {};

TEST_P(FetchUrlCheck, AcceptsHttpsAndLoopbackHttpOnly) {
    const UrlRow &row = GetParam();
    const FetchUrl url = check_fetch_url(row.url);
    if (*row.error == '\0') {
        EXPECT_EQ(url.error, "");
        EXPECT_EQ(url.host, row.host);
        EXPECT_EQ(url.tls, row.tls);
    } else {
        EXPECT_NE(url.error.find(row.error), std::string::npos) << url.error;
        EXPECT_EQ(url.host, "");
    }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, FetchUrlCheck,
    testing::Values(UrlRow{"https", "https://id.example/.well-known/jwks.json", "id.example", true, ""},
                    UrlRow{"https_port_case", "HTTPS://ID.Example:8443/keys", "id.example", true, ""},
                    UrlRow{"https_query", "https://id.example?x=1", "id.example", true, ""},
                    UrlRow{"https_ipv6", "https://[2001:db8::1]:443/k", "2001:db8::1", true, ""},
                    UrlRow{"http_loopback_v4", "http://127.0.0.1:9000/jwks", "127.0.0.1", false, ""},
                    UrlRow{"http_loopback_127_net", "http://127.5.6.7/jwks", "127.5.6.7", false, ""},
                    UrlRow{"http_loopback_v6", "http://[::1]:9000/jwks", "::1", false, ""},
                    UrlRow{"http_localhost", "http://LocalHost:9000/jwks", "localhost", false, ""},
                    UrlRow{"http_remote", "http://id.example/jwks", "", false, "loopback"},
                    UrlRow{"http_remote_ip", "http://10.0.0.1/jwks", "", false, "loopback"},
                    UrlRow{"http_128", "http://128.0.0.1/jwks", "", false, "loopback"},
                    UrlRow{"ftp", "ftp://id.example/jwks", "", false, "https://"},
                    UrlRow{"no_scheme", "id.example/jwks", "", false, "https://"},
                    UrlRow{"no_host", "https:///jwks", "", false, "no host"},
                    UrlRow{"userinfo", "https://u:p@id.example/jwks", "", false, "user information"},
                    UrlRow{"fragment", "https://id.example/jwks#x", "", false, "fragment"},
                    UrlRow{"space", "https://id.example/j wks", "", false, "spaces"},
                    UrlRow{"port_zero", "https://id.example:0/", "", false, "port"},
                    UrlRow{"port_big", "https://id.example:65536/", "", false, "port"},
                    UrlRow{"port_empty", "https://id.example:/", "", false, "port"},
                    UrlRow{"port_letters", "https://id.example:ab/", "", false, "port"},
                    UrlRow{"ipv6_open", "https://[::1/jwks", "", false, "unterminated"}),
    RowName());

TEST(DiscoveryUrl, IsTheIssuerAndTheWellKnownPath) {
    EXPECT_EQ(discovery_url("https://id.example/realms/wa"),
              "https://id.example/realms/wa/.well-known/openid-configuration");
    EXPECT_EQ(discovery_url("https://id.example/"), "https://id.example/.well-known/openid-configuration");
}

// ---------------------------------------------------------------- discovery

struct DiscoveryRow {
    const char *name;
    std::string json;
    const char *jwks_uri;  // when accepted
    const char *error;     // a part of the error, "" when accepted
};

void PrintTo(const DiscoveryRow &row, std::ostream *os) {
    *os << row.name;
}

class DiscoveryParse : public testing::TestWithParam<DiscoveryRow> {};

TEST_P(DiscoveryParse, NeedsItsOwnIssuerAndAFetchableJwksUri) {
    const DiscoveryRow &row = GetParam();
    const Discovery d = parse_discovery(row.json, "https://id.example/realms/wa");
    EXPECT_EQ(d.jwks_uri, row.jwks_uri);
    if (*row.error == '\0') {
        EXPECT_EQ(d.error, "");
    } else {
        EXPECT_NE(d.error.find(row.error), std::string::npos) << d.error;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, DiscoveryParse,
    testing::Values(
        DiscoveryRow{
            "keycloak_like",
            R"({"issuer":"https://id.example/realms/wa","jwks_uri":"https://id.example/realms/wa/certs","id_token_signing_alg_values_supported":["RS256"]})",
            "https://id.example/realms/wa/certs", ""},
        DiscoveryRow{"escaped_slashes",
                     R"({"issuer":"https:\/\/id.example\/realms\/wa","jwks_uri":"https:\/\/id.example\/k"})",
                     "https://id.example/k", ""},
        DiscoveryRow{"other_issuer", R"({"issuer":"https://evil.example/realms/wa","jwks_uri":"https://id.example/k"})",
                     "", "another issuer"},
        DiscoveryRow{"issuer_trailing_slash",
                     R"({"issuer":"https://id.example/realms/wa/","jwks_uri":"https://id.example/k"})", "",
                     "another issuer"},
        DiscoveryRow{"no_issuer", R"({"jwks_uri":"https://id.example/k"})", "", "another issuer"},
        DiscoveryRow{"issuer_not_string", R"({"issuer":1,"jwks_uri":"https://id.example/k"})", "", "another issuer"},
        DiscoveryRow{"no_jwks_uri", R"({"issuer":"https://id.example/realms/wa"})", "", "no jwks_uri"},
        DiscoveryRow{"jwks_uri_http", R"({"issuer":"https://id.example/realms/wa","jwks_uri":"http://id.example/k"})",
                     "", "loopback"},
        DiscoveryRow{"not_json", "<html>", "", "not a JSON object"},
        DiscoveryRow{"array", "[]", "", "not a JSON object"},
        DiscoveryRow{
            "duplicate_issuer",
            R"({"issuer":"https://evil.example","issuer":"https://id.example/realms/wa","jwks_uri":"https://id.example/k"})",
            "", "not a JSON object"}),
    RowName());

// ---------------------------------------------------------------- freshness

TEST(CacheMaxAge, FirstMaxAgeInDeltaSeconds) {
    EXPECT_EQ(cache_max_age("max-age=300"), 300);
    EXPECT_EQ(cache_max_age("public, max-age=86400, must-revalidate"), 86400);
    EXPECT_EQ(cache_max_age("Max-Age = 60"), 60);
    EXPECT_EQ(cache_max_age("max-age=\"120\""), 120);
    EXPECT_EQ(cache_max_age("max-age=10, max-age=20"), 10);
    EXPECT_EQ(cache_max_age("s-maxage=5, max-age=7"), 7);
    EXPECT_EQ(cache_max_age("max-age=0"), 0);
    EXPECT_EQ(cache_max_age("max-age=99999999999999999999"), 8640000);  // saturated
    EXPECT_EQ(cache_max_age(""), std::nullopt);
    EXPECT_EQ(cache_max_age("no-store"), std::nullopt);
    EXPECT_EQ(cache_max_age("max-age=-1"), std::nullopt);
    EXPECT_EQ(cache_max_age("max-age=1h"), std::nullopt);
    EXPECT_EQ(cache_max_age("max-age="), std::nullopt);
    EXPECT_EQ(cache_max_age("max-ages=5"), std::nullopt);
}

TEST(RefreshAfter, TheConfiguredPeriodOrSoonerWithinOneMinuteAndOneDay) {
    EXPECT_EQ(refresh_after(3600, std::nullopt), 3600);
    EXPECT_EQ(refresh_after(3600, 300), 300);
    EXPECT_EQ(refresh_after(3600, 5), 60);  // at least a minute
    EXPECT_EQ(refresh_after(3600, 0), 60);
    EXPECT_EQ(refresh_after(3600, 7200), 3600);  // never later than the configured period
    EXPECT_EQ(refresh_after(30, 7200), 30);      // the operator's own shorter period stands
    EXPECT_EQ(refresh_after(200000, 300000), 86400);
}

// ---------------------------------------------------------------- fetched key sets

TEST(FetchedJwks, OnlyAJwkSetReadAsAKeyFile) {
    const std::string set = R"({"keys":[)" + jwk(test_key(KeyType::rsa), R"("kid":"r1","alg":"RS256")") + "]}";
    const KeyFile ok = parse_fetched_jwks(set);
    EXPECT_EQ(ok.error, "");
    ASSERT_EQ(ok.keys.size(), 1u);
    EXPECT_EQ(ok.keys[0].kid, "r1");

    EXPECT_NE(parse_fetched_jwks("-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n").error, "");
    EXPECT_NE(parse_fetched_jwks(jwk(test_key(KeyType::rsa))).error, "");  // a lone JWK
    EXPECT_NE(parse_fetched_jwks(R"({"keys":{}})").error, "");
    EXPECT_NE(parse_fetched_jwks(R"({"keys":[]})").error, "");  // no usable key
    EXPECT_NE(parse_fetched_jwks("").error, "");
    EXPECT_NE(parse_fetched_jwks("{\"keys\":[").error, "");
    // private members are refused exactly as in a key file
    const std::string rsa_members = jwk(test_key(KeyType::rsa));
    const std::string with_d = R"({"keys":[)" + rsa_members.substr(0, rsa_members.size() - 1) + R"(,"d":"eA"}]})";
    EXPECT_NE(parse_fetched_jwks(with_d).error, "");
    // a published secret is never used: alone, nothing is left
    const KeyFile oct_only =
        parse_fetched_jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]})");
    EXPECT_NE(oct_only.error, "");
    EXPECT_TRUE(oct_only.keys.empty());
    const KeyFile mixed = parse_fetched_jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},)" +
                                             rsa_members + "]}");
    EXPECT_EQ(mixed.error, "");
    ASSERT_EQ(mixed.keys.size(), 1u);
    EXPECT_EQ(mixed.keys[0].type, KeyType::rsa);
    EXPECT_FALSE(mixed.warnings.empty());
}

KeySet keys_of(const std::string &jwk_set) {
    KeyFile file = parse_fetched_jwks(jwk_set);
    EXPECT_EQ(file.error, "");
    return file.keys;
}

TEST(FetchedKeys, VerifyBesideTheConfiguredOnesAndWidenTheDefaultAllowList) {
    const auto &rsa = test_key(KeyType::rsa);
    const KeySet fetched = keys_of(R"({"keys":[)" + jwk(rsa, R"("kid":"idp-1")") + "]}");
    JwtConfig config;
    config.keys.push_back(hmac_key("a configured secret of thirty-two bytes!"));
    const std::string token = mint(Alg::RS256, rsa, R"({"alg":"RS256","kid":"idp-1"})", R"({"device_id":"dev-9"})");
    const std::time_t now = std::time(nullptr);

    const AuthResult without = verify_jwt(token, config, now);
    EXPECT_TRUE(without.failure);       // RS256 is not allowed by an HMAC-only configuration
    EXPECT_FALSE(without.unknown_kid);  // refused before keys are looked at
    EXPECT_TRUE(without.no_key);        // but no key could verify it: keys may be missing

    const AuthResult with = verify_jwt(token, config, now, &fetched);
    EXPECT_FALSE(with.failure) << with.reason;
    EXPECT_EQ(with.device_id, "dev-9");

    // an explicit allow-list is not widened by what the fetched keys fit
    config.algorithms.add(Alg::HS256);
    const AuthResult listed = verify_jwt(token, config, now, &fetched);
    EXPECT_TRUE(listed.failure);
    EXPECT_FALSE(listed.no_key);  // the operator refused the alg: fetching changes nothing
}

TEST(FetchedKeys, AnUnknownKidIsSaidSoAnotherAlgOrAKnownKidIsNot) {
    const auto &rsa = test_key(KeyType::rsa);
    const auto &other = test_key(KeyType::rsa, 1);
    const KeySet fetched = keys_of(R"({"keys":[)" + jwk(rsa, R"("kid":"idp-1")") + "]}");
    JwtConfig config;
    const std::time_t now = std::time(nullptr);

    const AuthResult rotated = verify_jwt(
        mint(Alg::RS256, other, R"({"alg":"RS256","kid":"idp-2"})", R"({"device_id":"d"})"), config, now, &fetched);
    EXPECT_TRUE(rotated.failure);
    EXPECT_TRUE(rotated.unknown_kid);
    EXPECT_TRUE(rotated.no_key);

    const AuthResult forged = verify_jwt(
        mint(Alg::RS256, other, R"({"alg":"RS256","kid":"idp-1"})", R"({"device_id":"d"})"), config, now, &fetched);
    EXPECT_TRUE(forged.failure);
    EXPECT_FALSE(forged.unknown_kid);  // the kid is known: its key just does not verify
    EXPECT_FALSE(forged.no_key);

    const AuthResult no_kid =
        verify_jwt(mint(Alg::RS256, other, R"({"alg":"RS256"})", R"({"device_id":"d"})"), config, now, &fetched);
    EXPECT_TRUE(no_kid.failure);
    EXPECT_FALSE(no_kid.unknown_kid);
    EXPECT_FALSE(no_kid.no_key);  // a key of its type was tried: the signature is wrong

    const auto &ec = test_key(KeyType::ec_p256);
    const AuthResult no_ec =
        verify_jwt(mint(Alg::ES256, ec, R"({"alg":"ES256"})", R"({"device_id":"d"})"), config, now, &fetched);
    EXPECT_TRUE(no_ec.failure);
    EXPECT_TRUE(no_ec.no_key);  // no EC key at all (and so not allowed): none fetched yet
}

}  // namespace
}  // namespace wa_pair
