// Key files (wa_pair_jwt_key_file): PEM public keys and JWK Sets, what is read, what is skipped
// with a warning and what is refused, with the message `nginx -t` shows.
#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <string>
#include <vector>

#include "common/base64url.hpp"
#include "jose/jwk.hpp"
#include "row_name.hpp"
#include "test_keys.hpp"

namespace wa_pair {
namespace {

using test::jwk;
using test::test_key;

std::string pem_of(EVP_PKEY *pkey) {
    test::TestKey key;
    key.pkey = std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
    return test::spki_pem(key);
}

EVP_PKEY *rsa_pss_key() {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr);
    EVP_PKEY *key = nullptr;
    EVP_PKEY_keygen_init(ctx);
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
    EVP_PKEY_generate(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

std::string keys(const std::vector<std::string> &jwks) {
    std::string out = R"({"keys":[)";
    for (const std::string &k : jwks) out += (out.back() == '[' ? "" : ",") + k;
    return out + "]}";
}

std::string replace(std::string s, const std::string &from, const std::string &to) {
    const std::size_t at = s.find(from);
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

const std::string kRsa = test::jwk_members(test_key(KeyType::rsa));
const std::string kP256 = test::jwk_members(test_key(KeyType::ec_p256));

// ---------------------------------------------------------------------------------------------
// Read

TEST(KeyFile, PemForms) {
    struct Case {
        std::string text;
        KeyType type;
    };
    const std::vector<Case> cases = {
        {test::spki_pem(test_key(KeyType::rsa)), KeyType::rsa},
        {test::pkcs1_pem(test_key(KeyType::rsa)), KeyType::rsa},
        // an RSA SubjectPublicKeyInfo labelled "RSA PUBLIC KEY", as CryptX writes it
        {replace(replace(test::spki_pem(test_key(KeyType::rsa)), "BEGIN PUBLIC", "BEGIN RSA PUBLIC"), "END PUBLIC",
                 "END RSA PUBLIC"),
         KeyType::rsa},
        {test::spki_pem(test_key(KeyType::ec_p256)), KeyType::ec_p256},
        {test::spki_pem(test_key(KeyType::ec_p384)), KeyType::ec_p384},
        {test::spki_pem(test_key(KeyType::ec_p521)), KeyType::ec_p521},
        {test::spki_pem(test_key(KeyType::ed25519)), KeyType::ed25519},
        // text around the block, CRLF line ends, a BOM
        {"# the issuer's key\n" + test::spki_pem(test_key(KeyType::ed25519)) + "\ntrailing words\n", KeyType::ed25519},
        {"\xef\xbb\xbf" + test::spki_pem(test_key(KeyType::ec_p256)), KeyType::ec_p256},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.text);
        const KeyFile file = parse_key_file(c.text);
        EXPECT_EQ(file.error, "");
        ASSERT_EQ(file.keys.size(), 1u);
        EXPECT_EQ(file.keys[0].type, c.type);
        EXPECT_FALSE(file.keys[0].kid);
        EXPECT_FALSE(file.keys[0].alg);
        EXPECT_TRUE(file.keys[0].pkey);
    }
    std::string crlf;
    for (char ch : test::spki_pem(test_key(KeyType::rsa))) {
        if (ch == '\n') crlf += '\r';
        crlf += ch;
    }
    EXPECT_EQ(parse_key_file(crlf).error, "");
}

TEST(KeyFile, SeveralPemKeys) {
    const KeyFile file =
        parse_key_file(test::spki_pem(test_key(KeyType::rsa)) + test::spki_pem(test_key(KeyType::ec_p256)) +
                       test::pkcs1_pem(test_key(KeyType::rsa, 1)));
    EXPECT_EQ(file.error, "");
    ASSERT_EQ(file.keys.size(), 3u);
    EXPECT_EQ(file.keys[1].type, KeyType::ec_p256);
}

TEST(KeyFile, JwkSetWithEveryKeyType) {
    const KeyFile file = parse_key_file(keys({
        jwk(test_key(KeyType::rsa), R"("kid":"rsa","use":"sig","alg":"PS256")"),
        jwk(test_key(KeyType::ec_p256), R"("kid":"p256","key_ops":["verify"])"),
        jwk(test_key(KeyType::ec_p384), R"("kid":"p384")"),
        jwk(test_key(KeyType::ec_p521), R"("kid":"p521","x5t":"ignored","ext":true)"),
        jwk(test_key(KeyType::ed25519), R"("kid":"ed")"),
        jwk(test_key(KeyType::oct), R"("kid":"hmac","alg":"HS512")"),
    }));
    EXPECT_EQ(file.error, "");
    EXPECT_TRUE(file.warnings.empty());
    ASSERT_EQ(file.keys.size(), 6u);
    const KeyType types[] = {KeyType::rsa,     KeyType::ec_p256, KeyType::ec_p384,
                             KeyType::ec_p521, KeyType::ed25519, KeyType::oct};
    const char *kids[] = {"rsa", "p256", "p384", "p521", "ed", "hmac"};
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(file.keys[i].type, types[i]);
        EXPECT_EQ(file.keys[i].kid, kids[i]);
    }
    EXPECT_EQ(file.keys[0].alg, Alg::PS256);
    EXPECT_EQ(file.keys[5].alg, Alg::HS512);
    EXPECT_EQ(file.keys[5].secret.view(), test_key(KeyType::oct).secret);
    EXPECT_FALSE(file.keys[5].pkey);
    EXPECT_EQ(algorithms_for(file.keys).names(),
              "HS512 PS256 ES256 ES384 ES512 EdDSA");  // the RSA key's alg pins it to PS256
}

TEST(KeyFile, ASingleJwk) {
    const KeyFile file = parse_key_file("  \n" + jwk(test_key(KeyType::ed25519)) + "\n");
    EXPECT_EQ(file.error, "");
    ASSERT_EQ(file.keys.size(), 1u);
    EXPECT_EQ(file.keys[0].type, KeyType::ed25519);
}

TEST(KeyFile, ShortEcCoordinatesArePaddedBack) {
    // PyJWT before 2.8 drops the leading zero bytes of x and y.
    const test::TestKey &key = test_key(KeyType::ec_p521);
    const std::string x = test::bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X);
    const std::string y = test::bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    const KeyFile file = parse_key_file(R"({"kty":"EC","crv":"P-521","x":")" + base64url_encode(x) + R"(","y":")" +
                                        base64url_encode(y) + "\"}");
    EXPECT_EQ(file.error, "");
    EXPECT_LE(x.size(), 66u);
    const KeyFile full = parse_key_file(jwk(key));
    ASSERT_EQ(file.keys.size(), 1u);
    ASSERT_EQ(full.keys.size(), 1u);
    EXPECT_EQ(EVP_PKEY_eq(file.keys[0].pkey.get(), full.keys[0].pkey.get()), 1);
}

TEST(KeyFile, DefaultAllowList) {
    KeySet keys = {hmac_key("s")};
    EXPECT_EQ(algorithms_for(keys).names(), "HS256 HS384 HS512");
    keys.push_back(parse_key_file(test::spki_pem(test_key(KeyType::rsa))).keys[0]);
    EXPECT_EQ(algorithms_for(keys).names(), "HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512");
    EXPECT_EQ(algorithms_for({}).names(), "");
    EXPECT_EQ(algorithms_for(parse_key_file(test::spki_pem(test_key(KeyType::ec_p384))).keys).names(), "ES384");
}

// ---------------------------------------------------------------------------------------------
// Skipped, as RFC 7517 section 5 asks, with a warning

struct SkipRow {
    const char *name;
    std::string jwk;
    std::string warning;
};

void PrintTo(const SkipRow &row, std::ostream *os) {
    *os << row.name;
}

class KeyFileSkips : public testing::TestWithParam<SkipRow> {};

TEST_P(KeyFileSkips, Jwk) {
    // one usable key first, so that the file is read
    const KeyFile file = parse_key_file(keys({jwk(test_key(KeyType::ed25519)), GetParam().jwk}));
    EXPECT_EQ(file.error, "");
    EXPECT_EQ(file.keys.size(), 1u);
    ASSERT_EQ(file.warnings.size(), 1u);
    EXPECT_EQ(file.warnings[0], GetParam().warning);
    // alone, it leaves no key
    const KeyFile alone = parse_key_file(keys({GetParam().jwk}));
    EXPECT_EQ(alone.error, "no usable key in the JWK Set");
    EXPECT_TRUE(alone.keys.empty());
}

const SkipRow kSkips[] = {
    {"use_enc", "{" + kRsa + R"(,"use":"enc","kid":"e1"})", R"(key 2 (kid "e1") skipped: "use" is not "sig")"},
    {"key_ops_encrypt", "{" + kRsa + R"(,"key_ops":["encrypt","wrapKey"]})",
     R"(key 2 skipped: "key_ops" lacks "verify")"},
    {"key_ops_empty", "{" + kRsa + R"(,"key_ops":[]})", R"(key 2 skipped: "key_ops" lacks "verify")"},
    {"alg_rsa_oaep", "{" + kRsa + R"(,"alg":"RSA-OAEP"})",
     R"(key 2 skipped: "alg" is not a JWS algorithm this module verifies)"},
    {"alg_none", R"({"kty":"oct","k":"c2VjcmV0","alg":"none"})",
     R"(key 2 skipped: "alg" is not a JWS algorithm this module verifies)"},
    {"alg_es256k", R"({"kty":"EC","crv":"secp256k1","x":"AA","y":"AA","alg":"ES256K"})",
     R"(key 2 skipped: "alg" is not a JWS algorithm this module verifies)"},
    {"ec_secp256k1", R"({"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"})",
     R"(key 2 skipped: EC curve is not P-256, P-384 or P-521)"},
    {"okp_x25519", R"({"kty":"OKP","crv":"X25519","x":"AA"})", R"(key 2 skipped: OKP curve is not Ed25519)"},
    {"okp_ed448", R"({"kty":"OKP","crv":"Ed448","x":"AA"})", R"(key 2 skipped: OKP curve is not Ed25519)"},
    {"kty_unknown", R"({"kty":"PQC","x":"AA"})", R"(key 2 skipped: "kty" is not RSA, EC, OKP or oct)"},
    {"kty_lower_case", "{" + replace(kRsa, "\"RSA\"", "\"Rsa\"") + "}",
     R"(key 2 skipped: "kty" is not RSA, EC, OKP or oct)"},
};

INSTANTIATE_TEST_SUITE_P(Table, KeyFileSkips, testing::ValuesIn(kSkips), RowName());

// ---------------------------------------------------------------------------------------------
// Refused: the error nginx -t shows

struct RefuseRow {
    const char *name;
    std::string text;
    std::string error;
};

void PrintTo(const RefuseRow &row, std::ostream *os) {
    *os << row.name;
}

class KeyFileRefuses : public testing::TestWithParam<RefuseRow> {};

TEST_P(KeyFileRefuses, Text) {
    const KeyFile file = parse_key_file(GetParam().text);
    EXPECT_EQ(file.error, GetParam().error);
    EXPECT_TRUE(file.keys.empty());
    EXPECT_EQ(ERR_peek_error(), 0ul) << "OpenSSL's error queue must be left empty";
    // a secret never shows in a message
    EXPECT_EQ(file.error.find("c2VjcmV0"), std::string::npos);
    EXPECT_EQ(file.error.find("secret"), std::string::npos);
}

std::string pem_block(const std::string &name, const std::string &body) {
    return "-----BEGIN " + name + "-----\n" + body + "\n-----END " + name + "-----\n";
}

std::string rsa_jwk_of_bits(unsigned bits) {
    test::TestKey key;
    key.type = KeyType::rsa;
    key.pkey = test::keygen("RSA", nullptr, bits);
    return test::jwk(key);
}

std::string many_keys(std::size_t n) {
    std::vector<std::string> list(n, jwk(test_key(KeyType::ed25519)));
    return keys(list);
}

const std::string kRsaPem = test::spki_pem(test_key(KeyType::rsa));
const std::string kKey1 = "key 1";

const RefuseRow kRefusals[] = {
    // neither PEM nor JSON
    {"empty", "", "neither a PEM public key nor a JWK Set"},
    {"blank", " \n\t\n", "neither a PEM public key nor a JWK Set"},
    {"a_secret", "c2VjcmV0", "neither a PEM public key nor a JWK Set"},
    {"der", std::string("\x30\x82\x01\x22\x30\x0d", 6), "neither a PEM public key nor a JWK Set"},
    // PEM
    {"private_key", test::private_pem(test_key(KeyType::ec_p256)),
     R"(holds a private key (PEM "PRIVATE KEY"): give the public key only (openssl pkey -pubout))"},
    {"rsa_private_key", pem_block("RSA PRIVATE KEY", "AAAA"),
     R"(holds a private key (PEM "RSA PRIVATE KEY"): give the public key only (openssl pkey -pubout))"},
    {"encrypted_private_key", pem_block("ENCRYPTED PRIVATE KEY", "AAAA"),
     R"(holds a private key (PEM "ENCRYPTED PRIVATE KEY"): give the public key only (openssl pkey -pubout))"},
    {"public_then_private", kRsaPem + test::private_pem(test_key(KeyType::rsa)),
     R"(holds a private key (PEM "PRIVATE KEY"): give the public key only (openssl pkey -pubout))"},
    {"certificate", pem_block("CERTIFICATE", "AAAA"),
     "holds a certificate: give its public key (openssl x509 -pubkey -noout)"},
    {"other_block", pem_block("DH PARAMETERS", "AAAA"), R"(PEM block "DH PARAMETERS" is not a public key)"},
    {"garbage_der", pem_block("PUBLIC KEY", "AAAAAAAA"), R"(PEM "PUBLIC KEY" block is not a valid public key)"},
    {"garbage_pkcs1", pem_block("RSA PUBLIC KEY", "AAAAAAAA"),
     R"(PEM "RSA PUBLIC KEY" block is not a valid public key)"},
    {"ec_spki_labelled_pkcs1",
     replace(replace(test::spki_pem(test_key(KeyType::ec_p256)), "BEGIN PUBLIC", "BEGIN RSA PUBLIC"), "END PUBLIC",
             "END RSA PUBLIC"),
     R"(PEM "RSA PUBLIC KEY" block is not a valid public key)"},
    {"bad_base64", pem_block("PUBLIC KEY", "!!!!"), "malformed PEM block"},
    {"no_end_line", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n", "malformed PEM block"},
    {"truncated", kRsaPem.substr(0, kRsaPem.size() / 2), "malformed PEM block"},
    {"begin_only_in_text", "see -----BEGIN here", "no PEM block found"},
    {"rsa_1024_pem", pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024})),
     "RSA key of 1024 bits: at least 2048 are required"},
    {"secp256k1_pem", pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1")),
     "EC key on curve secp256k1: only P-256, P-384 and P-521 are supported"},
    {"ed448_pem", pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448")),
     "Ed448 key: EdDSA is supported with Ed25519 only"},
    {"x25519_pem", pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519")),
     "unsupported key type (RSA, EC, Ed25519 only)"},
    {"rsa_pss_pem", pem_of(rsa_pss_key()), "RSA-PSS restricted key: give a plain RSA key"},
    // JSON
    {"json_top_level_array", R"([{"kty":"oct","k":"c2VjcmV0"}])", "neither a PEM public key nor a JWK Set"},
    {"json_broken",
     R"({)"
     "\n"
     R"(["keys"])",
     "not a JSON object (a JWK Set or a JWK)"},
    {"json_invalid", R"({"keys":[)", "not a JSON object (a JWK Set or a JWK)"},
    {"json_trailing", R"({"keys":[]} x)", "not a JSON object (a JWK Set or a JWK)"},
    {"json_duplicate_keys", R"({"keys":[],"keys":[]})", "not a JSON object (a JWK Set or a JWK)"},
    {"json_too_deep", R"({"keys":[{"a":[[[[[[[[1]]]]]]]]}]})", "not a JSON object (a JWK Set or a JWK)"},
    {"json_neither", R"({"key":[]})", R"(a JSON document without "keys" or "kty")"},
    {"keys_not_array", R"({"keys":{}})", R"("keys" is not an array)"},
    {"keys_empty", R"({"keys":[]})", "no usable key in the JWK Set"},
    {"too_many_keys", many_keys(65), "more than 64 keys"},
    {"key_not_object", R"({"keys":["AQAB"]})", "key 1 is not a JSON object"},
    {"kty_missing", R"({"keys":[{"n":"AQAB"}]})", R"(key 1: "kty" is missing)"},
    {"kty_number", R"({"kty":1})", R"(key 1: "kty" is not a string)"},
    {"kid_number", R"({"kty":"oct","k":"c2VjcmV0","kid":7})", R"(key 1: "kid" is not a string)"},
    {"use_number", R"({"kty":"oct","k":"c2VjcmV0","use":1})", R"(key 1: "use" is not a string)"},
    {"key_ops_string", R"({"kty":"oct","k":"c2VjcmV0","key_ops":"verify"})", R"(key 1: "key_ops" is not an array)"},
    {"alg_number", R"({"kty":"oct","k":"c2VjcmV0","alg":256})", R"(key 1: "alg" is not a string)"},
    {"rsa_no_n", R"({"kty":"RSA","e":"AQAB"})", R"(key 1: "n" is missing or not a string)"},
    {"rsa_no_e", "{" + replace(kRsa, R"(,"e":"AQAB")", "") + "}", R"(key 1: "e" is missing or not a string)"},
    {"rsa_n_padded", "{" + replace(kRsa, R"(","e")", R"(=","e")") + "}", R"(key 1: "n" is not base64url)"},
    {"rsa_n_standard_alphabet", R"({"kty":"RSA","n":"ab+/","e":"AQAB"})", R"(key 1: "n" is not base64url)"},
    {"rsa_n_empty", R"({"kty":"RSA","n":"","e":"AQAB"})", R"(key 1: "n" is empty)"},
    {"rsa_e_huge", "{" + replace(kRsa, R"("e":"AQAB")", R"("e":"AQABAQABAQAB")") + "}", R"(key 1: "e" is too large)"},
    {"rsa_1024", rsa_jwk_of_bits(1024), "key 1: RSA key of 1024 bits: at least 2048 are required"},
    {"rsa_tiny_n", R"({"kty":"RSA","n":"AQAB","e":"AQAB","kid":"tiny"})",
     R"(key 1 (kid "tiny"): RSA key of 17 bits: at least 2048 are required)"},
    {"rsa_private", "{" + kRsa + R"(,"d":"AQAB"})",
     R"(key 1: holds private key material ("d"): publish the public key only)"},
    {"rsa_private_p", "{" + kRsa + R"(,"p":"AQAB"})",
     R"(key 1: holds private key material ("p"): publish the public key only)"},
    {"ec_no_crv", R"({"kty":"EC","x":"AA","y":"AA"})", R"(key 1: "crv" is missing)"},
    {"ec_no_y", "{" + replace(kP256, R"(,"y")", R"(,"z")") + "}", R"(key 1: "y" is missing or not a string)"},
    {"ec_x_too_long", R"({"kty":"EC","crv":"P-256","x":")" + base64url_encode(std::string(33, 'x')) + R"(","y":"AA"})",
     R"(key 1: "x" is longer than 32 bytes)"},
    {"ec_point_off_curve", R"({"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"})", "key 1: not a valid EC public key"},
    {"ec_curve_mismatch", "{" + replace(kP256, "P-256", "P-384") + "}", "key 1: not a valid EC public key"},
    {"ec_private", "{" + kP256 + R"(,"d":"AQAB"})",
     R"(key 1: holds private key material ("d"): publish the public key only)"},
    {"okp_no_crv", R"({"kty":"OKP","x":"AA"})", R"(key 1: "crv" is missing)"},
    {"okp_x_31_bytes", R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url_encode(std::string(31, 'x')) + "\"}",
     R"(key 1: "x" must be 32 bytes, not 31)"},
    {"okp_private", "{" + test::jwk_members(test_key(KeyType::ed25519)) + R"(,"d":"AQAB"})",
     R"(key 1: holds private key material ("d"): publish the public key only)"},
    {"oct_no_k", R"({"kty":"oct"})", R"(key 1: "k" is missing or not a string)"},
    {"oct_empty_k", R"({"kty":"oct","k":""})", R"(key 1: "k" is empty)"},
    {"oct_k_not_base64url", R"({"kty":"oct","k":"c2VjcmV0=="})", R"(key 1: "k" is not base64url)"},
    {"alg_does_not_fit_ec", "{" + kP256 + R"(,"alg":"RS256","kid":"k"})",
     R"(key 1 (kid "k"): "alg" RS256 does not fit an EC P-256 key)"},
    {"alg_does_not_fit_curve", "{" + kP256 + R"(,"alg":"ES384"})",
     R"(key 1: "alg" ES384 does not fit an EC P-256 key)"},
    {"alg_hmac_on_rsa", "{" + kRsa + R"(,"alg":"HS256"})", R"(key 1: "alg" HS256 does not fit an RSA key)"},
    {"alg_rsa_on_oct", R"({"kty":"oct","k":"c2VjcmV0","alg":"RS256"})",
     R"(key 1: "alg" RS256 does not fit an oct key)"},
    {"second_key_bad", keys({jwk(test_key(KeyType::ed25519)), R"({"kty":"RSA","kid":"k2"})"}),
     R"(key 2 (kid "k2"): "n" is missing or not a string)"},
    {"kid_unprintable_not_echoed", R"({"kty":"RSA","kid":"a\nb"})", R"(key 1: "n" is missing or not a string)"},
};

INSTANTIATE_TEST_SUITE_P(Table, KeyFileRefuses, testing::ValuesIn(kRefusals), RowName());

TEST(KeyFile, RandomBytesNeverCrash) {
    // Fuzz-minded: mutations of valid files are read or refused, never anything else.
    const std::vector<std::string> seeds = {kRsaPem, jwk(test_key(KeyType::ec_p521)),
                                            keys({jwk(test_key(KeyType::oct), R"("kid":"a")")})};
    unsigned state = 12345;
    for (const std::string &seed : seeds) {
        for (int i = 0; i < 300; ++i) {
            std::string text = seed;
            for (int m = 0; m < 1 + i % 4; ++m) {
                state = state * 1103515245 + 12345;
                const std::size_t at = (state >> 8) % text.size();
                text[at] = static_cast<char>(state >> 16);
            }
            const KeyFile file = parse_key_file(text);
            EXPECT_TRUE(file.error.empty() != file.keys.empty());
        }
    }
    EXPECT_EQ(ERR_peek_error(), 0ul);
}

}  // namespace
}  // namespace wa_pair
