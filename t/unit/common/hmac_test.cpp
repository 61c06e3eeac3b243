// HmacKey (src/common/hmac.hpp) against RFC 4231's test vectors and against OpenSSL's own one-shot
// HMAC() on random keys and messages: every key length around the block sizes (a key longer
// than the block is hashed first), every hash.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>

#include "common/hmac.hpp"

namespace wa_pair {
namespace {

std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

std::string hex(const unsigned char *p, std::size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[p[i] >> 4]);
        out.push_back(digits[p[i] & 15]);
    }
    return out;
}

std::string ours(HmacHash hash, std::string_view key, std::string_view message) {
    const auto k = HmacKey::prepare(key);
    if (!k) return "(no key)";
    unsigned char out[64];
    return hex(out, k->sign(hash, message, out));
}

std::string openssl(const EVP_MD *md, std::string_view key, std::string_view message) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(message.data()),
         message.size(), out, &len);
    return hex(out, len);
}

struct Rfc4231 {
    const char *name;
    std::string key, data;
    const char *sha256, *sha384, *sha512;
};

// RFC 4231 section 4 (test case 5, a truncated MAC, is left out: JWS never truncates).
TEST(Hmac, Rfc4231Vectors) {
    const std::string aa131(131, '\xaa');
    const Rfc4231 cases[] = {
        {"case 1", std::string(20, '\x0b'), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f"
         "1702e696c203a126854"},
        {"case 2", "Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6"
         "b4b636e070a38bce737"},
        {"case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
         "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
         "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee89"
         "42674278859e13292fb"},
        {"case 4", unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
         "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
         "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4"
         "f2de2adebeb10a298dd"},
        {"case 6", aa131, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0"
         "aec8b915a985d786598"},
        {"case 7", aa131,
         "This is a test using a larger than block-size key and a larger than block-size data. "
         "The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
         "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
         "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de04"
         "46065c97440fa8c6a58"},
    };
    for (const Rfc4231 &c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(ours(HmacHash::sha256, c.key, c.data), c.sha256);
        EXPECT_EQ(ours(HmacHash::sha384, c.key, c.data), c.sha384);
        EXPECT_EQ(ours(HmacHash::sha512, c.key, c.data), c.sha512);
    }
}

// Every key length from 1 to 300 bytes (both sides of 64 and 128), messages of 0 to 600
// bytes, and the same key used again (the prepared states are not consumed by a check).
TEST(Hmac, EqualsOpensslOneShotForRandomKeysAndMessages) {
    std::mt19937 rng(4231);
    auto random_bytes = [&](std::size_t n) {
        std::string s(n, '\0');
        for (char &c : s) c = static_cast<char>(rng() & 0xff);
        return s;
    };
    for (std::size_t key_len = 1; key_len <= 300; ++key_len) {
        const std::string key = random_bytes(key_len);
        const auto k = HmacKey::prepare(key);
        ASSERT_TRUE(k) << key_len;
        for (int round = 0; round < 3; ++round) {
            const std::string message = random_bytes(rng() % 601);
            const struct {
                HmacHash hash;
                const EVP_MD *md;
            } hashes[] = {
                {HmacHash::sha256, EVP_sha256()}, {HmacHash::sha384, EVP_sha384()}, {HmacHash::sha512, EVP_sha512()}};
            for (const auto &h : hashes) {
                unsigned char out[64];
                const std::size_t n = k->sign(h.hash, message, out);
                ASSERT_EQ(hex(out, n), openssl(h.md, key, message))
                    << "key " << key_len << " bytes, message " << message.size() << " bytes";
            }
        }
    }
}

TEST(Hmac, AnEmptySecretIsNoKey) {
    EXPECT_EQ(HmacKey::prepare(""), nullptr);
}

}  // namespace
}  // namespace wa_pair
