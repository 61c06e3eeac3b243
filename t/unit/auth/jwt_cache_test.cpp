// JwtCache (src/auth/jwt_cache.hpp) and its use by authenticate(): only successes are kept, only
// for byte-for-byte the same token, time claims judged again at each use, the revocation list
// still consulted, and results never mixed between tokens.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>
#include <string>

#include "auth/auth.hpp"
#include "common/base64url.hpp"
#include "auth/jwt_cache.hpp"

#include "hs256.hpp"

namespace wa_pair {
namespace {

const std::string kSecret = "jwt cache test secret, 32 bytes!";
constexpr std::time_t kNow = 1700000000;

std::string mint(std::string_view payload) {
    return testing_hs256::mint(kSecret, R"({"alg":"HS256","typ":"JWT"})", payload);
}

JwtConfig jwt_config(long leeway = 0) {
    JwtConfig config;
    config.keys.push_back(hmac_key(kSecret));
    config.leeway_seconds = leeway;
    return config;
}

AuthResult verified(const std::string &token, std::time_t at = kNow, long leeway = 0) {
    AuthResult r = verify_jwt(token, jwt_config(leeway), at);
    EXPECT_FALSE(r.failure) << r.reason;
    return r;
}

TEST(JwtCache, FindsOnlyTheSameBytes) {
    JwtCache cache;
    const std::string token = mint(R"({"device_id":"dev-1"})");
    EXPECT_EQ(cache.find(token, kNow), nullptr);  // nothing kept yet
    cache.store(token, verified(token));
    const AuthResult *kept = cache.find(token, kNow);
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept->device_id, "dev-1");

    std::string other = token;
    other.back() = other.back() == 'A' ? 'B' : 'A';  // same length, one byte off
    EXPECT_EQ(cache.find(other, kNow), nullptr);
    EXPECT_EQ(cache.find(token.substr(0, token.size() - 1), kNow), nullptr);
    EXPECT_EQ(cache.find(token + "A", kNow), nullptr);
    EXPECT_EQ(cache.find("", kNow), nullptr);
}

TEST(JwtCache, ClearForgetsEveryKeptToken) {
    JwtCache cache;
    cache.clear();  // nothing kept yet: nothing to do
    const std::string a = mint(R"({"device_id":"dev-a"})");
    const std::string b = mint(R"({"device_id":"dev-b"})");
    cache.store(a, verified(a));
    cache.store(b, verified(b));
    ASSERT_NE(cache.find(a, kNow), nullptr);
    cache.clear();  // the keys changed: what was verified with them is judged again
    EXPECT_EQ(cache.find(a, kNow), nullptr);
    EXPECT_EQ(cache.find(b, kNow), nullptr);
    cache.store(a, verified(a));
    EXPECT_NE(cache.find(a, kNow), nullptr);
}

TEST(JwtCache, AByteOffAnywhereIsAnotherToken) {
    JwtCache cache;
    const std::string token = mint(R"({"device_id":"dev-1","sub":"a longer payload for words"})");
    cache.store(token, verified(token));
    for (std::size_t i = 0; i < token.size(); ++i) {
        std::string other = token;
        other[i] = static_cast<char>(other[i] ^ 0x01);
        ASSERT_EQ(cache.find(other, kNow), nullptr) << "byte " << i;
    }
    EXPECT_NE(cache.find(token, kNow), nullptr);
}

TEST(JwtCache, KeepsNoFailure) {
    JwtCache cache;
    const std::string token = mint(R"({"device_id":"dev-1","exp":1})");  // long expired
    const AuthResult refused = verify_jwt(token, jwt_config(), kNow);
    ASSERT_TRUE(refused.failure);
    cache.store(token, refused);
    EXPECT_EQ(cache.find(token, kNow), nullptr);
    EXPECT_EQ(cache.find(token, 0), nullptr);  // not even at a time it would have been valid
}

TEST(JwtCache, TimeClaimsAreJudgedAgainAtEachUse) {
    JwtCache cache;
    const std::string exp = mint(R"({"device_id":"d","exp":)" + std::to_string(kNow + 10) + "}");
    cache.store(exp, verified(exp));
    EXPECT_NE(cache.find(exp, kNow + 9), nullptr);
    EXPECT_EQ(cache.find(exp, kNow + 10), nullptr);  // exp reached
    EXPECT_EQ(cache.find(exp, kNow + 1000), nullptr);

    const std::string nbf = mint(R"({"device_id":"d","nbf":)" + std::to_string(kNow) + "}");
    cache.store(nbf, verified(nbf));
    EXPECT_NE(cache.find(nbf, kNow), nullptr);
    EXPECT_EQ(cache.find(nbf, kNow - 1), nullptr);  // a clock that went back

    const std::string iat = mint(R"({"device_id":"d","iat":)" + std::to_string(kNow) + "}");
    cache.store(iat, verified(iat));
    EXPECT_EQ(cache.find(iat, kNow - 1), nullptr);

    // the leeway the token was verified with is the one it is judged with again
    const std::string lee = mint(R"({"device_id":"d","exp":)" + std::to_string(kNow + 10) + "}");
    JwtCache with_leeway;
    with_leeway.store(lee, verified(lee, kNow, 30));
    EXPECT_NE(with_leeway.find(lee, kNow + 39), nullptr);
    EXPECT_EQ(with_leeway.find(lee, kNow + 40), nullptr);
}

TEST(JwtCache, NeverAnswersForAnotherToken) {
    JwtCache cache;
    std::vector<std::string> tokens;
    for (int i = 0; i < 3 * static_cast<int>(JwtCache::kSlots); ++i) {
        tokens.push_back(mint(R"({"device_id":"dev-)" + std::to_string(i) + "\"}"));
        cache.store(tokens.back(), verified(tokens.back()));
    }
    int found = 0;
    for (int i = 0; i < static_cast<int>(tokens.size()); ++i) {
        if (const AuthResult *kept = cache.find(tokens[i], kNow)) {
            ++found;
            EXPECT_EQ(kept->device_id, "dev-" + std::to_string(i));
        }
    }
    EXPECT_GT(found, 0);
    EXPECT_LE(found, static_cast<int>(JwtCache::kSlots));  // bounded
}

TEST(JwtCache, LongTokensAreNotKept) {
    JwtCache cache;
    const std::string token = mint(R"({"device_id":"d","pad":")" + std::string(JwtCache::kMaxTokenBytes, 'x') + "\"}");
    cache.store(token, verified(token));
    EXPECT_EQ(cache.find(token, kNow), nullptr);
}

AuthConfig cached_config() {
    AuthConfig config;
    config.jwt = jwt_config();
    config.jwt_cache = std::make_shared<JwtCache>();
    return config;
}

TEST(JwtCache, AuthenticateAnswersFromTheCacheAsItWouldWithout) {
    AuthConfig config = cached_config();
    AuthConfig plain = config;
    plain.jwt_cache.reset();
    const std::string token = mint(R"({"device_id":"dev-9","api_key_id":"k7","version":4})");
    const std::string header = "Bearer " + token;
    const AuthResult first = authenticate(header, config, kNow);
    ASSERT_NE(config.jwt_cache->find(token, kNow), nullptr);  // kept by the first request
    const AuthResult second = authenticate(header, config, kNow + 1);
    const AuthResult reference = authenticate(header, plain, kNow + 1);
    for (const AuthResult *r : {&first, &second}) {
        EXPECT_FALSE(r->failure);
        EXPECT_EQ(r->device_id, reference.device_id);
        EXPECT_EQ(r->api_key_id, reference.api_key_id);
        EXPECT_EQ(r->version, reference.version);
        EXPECT_EQ(r->method, reference.method);
    }
}

// White-box: authenticate() consults the cache before verifying (a kept result for a token
// that would not verify is answered), which is what makes the tests above meaningful.
TEST(JwtCache, AuthenticateConsultsTheCacheFirst) {
    AuthConfig config = cached_config();
    const std::string unsigned_token = "eyJhbGciOiJIUzI1NiJ9.eyJkZXZpY2VfaWQiOiJ4In0.c2ln";
    ASSERT_TRUE(authenticate("Bearer " + unsigned_token, config, kNow).failure);
    AuthResult planted = verified(mint(R"({"device_id":"planted"})"));
    config.jwt_cache->store(unsigned_token, planted);
    EXPECT_EQ(authenticate("Bearer " + unsigned_token, config, kNow).device_id, "planted");
}

// authenticate_into (the handler's way): a kept verification is answered in place, the cache's
// own entry, with what authenticate() answers; a first verification and a failure in `result`.
TEST(JwtCache, AuthenticateIntoAnswersAKeptTokenInPlace) {
    AuthConfig config = cached_config();
    const std::string token = mint(R"({"device_id":"dev-i","api_key_id":"k1","version":5})");
    const std::string header = "Bearer " + token;
    AuthResult scratch;
    const AuthResult &first = authenticate_into(header, config, kNow, scratch);
    EXPECT_EQ(&first, &scratch);  // verified now, then kept
    EXPECT_FALSE(first.failure);
    AuthResult scratch2;
    const AuthResult &again = authenticate_into(header, config, kNow + 1, scratch2);
    EXPECT_EQ(&again, config.jwt_cache->find(token, kNow + 1));
    EXPECT_TRUE(scratch2.device_id.empty());
    const AuthResult copy = authenticate(header, config, kNow + 1);
    for (const AuthResult *r : {&again, &copy}) {
        EXPECT_FALSE(r->failure);
        EXPECT_EQ(r->device_id, "dev-i");
        EXPECT_EQ(r->api_key_id, "k1");
        EXPECT_EQ(r->version, std::optional<std::uint64_t>(5));
        EXPECT_EQ(r->method, AuthMethod::jwt);
    }
    AuthResult scratch3;
    const AuthResult &refused = authenticate_into("Bearer a.b", config, kNow, scratch3);
    EXPECT_EQ(&refused, &scratch3);
    EXPECT_TRUE(refused.failure);
}

TEST(JwtCache, RevocationStillAppliesToAKeptToken) {
    AuthConfig config = cached_config();
    const std::string token = mint(R"({"device_id":"dev-r","version":2})");
    ASSERT_FALSE(authenticate("Bearer " + token, config, kNow).failure);  // kept
    auto parsed = std::make_shared<RevocationFile>(parse_revocation_file("dev-r 3\n"));
    ASSERT_EQ(parsed->error, "");
    config.revocations = std::shared_ptr<const Revocations>(parsed, &parsed->list);
    const AuthResult r = authenticate("Bearer " + token, config, kNow);
    EXPECT_TRUE(r.failure);
    EXPECT_EQ(r.reason, "token version revoked");
}

}  // namespace
}  // namespace wa_pair
