// JWS signatures of every algorithm (RFC 7515, RFC 7518, RFC 8037): the published examples
// byte for byte, keys of every type made at run time, and an attack table per algorithm.
#include <gtest/gtest.h>

#include <openssl/err.h>

#include <string>
#include <vector>

#include "jose/jws.hpp"
#include "jose/jwt.hpp"
#include "row_name.hpp"
#include "test_keys.hpp"

namespace wa_pair {
namespace {

using test::mint;
using test::test_key;

const std::string kBadJwtText(kBadJwt);
const std::string kPayloadNotJson = "payload is not a valid JSON object";

// A key of `type` the tokens of this file are not signed with.
Key test_key_of_type(KeyType type) {
    KeyFile parsed = parse_key_file(test::jwk(test_key(type, 1)));
    EXPECT_EQ(parsed.error, "");
    return parsed.keys.at(0);
}

Key only_key(const std::string &file) {
    KeyFile parsed = parse_key_file(file);
    EXPECT_EQ(parsed.error, "");
    EXPECT_EQ(parsed.keys.size(), 1u);
    return parsed.keys.empty() ? Key{} : parsed.keys[0];
}

std::string decoded(std::string_view b64) {
    std::optional<std::string> out = base64url_decode(b64);
    EXPECT_TRUE(out);
    return out ? std::move(*out) : std::string();
}

// Splits a compact JWS into signing input and decoded signature.
std::pair<std::string, std::string> signing_parts(const std::string &token) {
    const std::size_t dot = token.rfind('.');
    return {token.substr(0, dot), decoded(token.substr(dot + 1))};
}

// The reason verify_jwt gives; "payload is not a valid JSON object" proves that the signature
// verified, since the payload is parsed only after it.
std::string verdict(const std::string &token, KeySet keys, const std::string &device_claim = "iss",
                    std::time_t now = 1300819379) {
    JwtConfig config;
    config.keys = std::move(keys);
    config.device_claim = device_claim;
    const AuthResult result = verify_jwt(token, config, now);
    return result.failure ? result.reason : "ok:" + result.device_id;
}

// ---------------------------------------------------------------------------------------------
// The published examples. The payload of A.2 and A.3 is {"iss":"joe","exp":1300819380,...}
// (no device id, so "iss" is the device claim); A.4, RFC 8037 A.4 and RFC 7520 4.1 sign text
// that is no JSON object: their signatures verify and verify_jwt then refuses the payload.

const std::string kRfc7515Claims =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

TEST(Rfc7515, A2Rs256Example) {
    const std::string token =
        "eyJhbGciOiJSUzI1NiJ9." + kRfc7515Claims +
        ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
        "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
        "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
        "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_"
        "IoypGlUPQGe77Rw";
    const Key key = only_key(
        R"({"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"})");
    EXPECT_EQ(key.type, KeyType::rsa);
    const auto [input, sig] = signing_parts(token);
    EXPECT_TRUE(verify_signature(Alg::RS256, key, input, sig));
    EXPECT_FALSE(verify_signature(Alg::RS384, key, input, sig));
    EXPECT_FALSE(verify_signature(Alg::PS256, key, input, sig));
    EXPECT_EQ(verdict(token, {key}), "ok:joe");
    EXPECT_EQ(verdict(token, {key}, "iss", 1300819380), "token expired");
    EXPECT_EQ(verdict(token, {test_key_of_type(KeyType::rsa)}), "signature mismatch");
}

TEST(Rfc7515, A3Es256Example) {
    const std::string token = "eyJhbGciOiJFUzI1NiJ9." + kRfc7515Claims +
                              ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
    const Key key = only_key(
        R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
    EXPECT_EQ(key.type, KeyType::ec_p256);
    const auto [input, sig] = signing_parts(token);
    EXPECT_TRUE(verify_signature(Alg::ES256, key, input, sig));
    EXPECT_EQ(verdict(token, {key}), "ok:joe");
    std::string swapped = sig.substr(32) + sig.substr(0, 32);  // S||R
    EXPECT_FALSE(verify_signature(Alg::ES256, key, input, swapped));
}

const std::string kEs512PayloadToken =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-"
    "KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

TEST(Rfc7515, A4Es512Example) {
    const Key jwk = only_key(
        R"({"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"})");
    // The same public key as SubjectPublicKeyInfo PEM.
    const Key pem = only_key(
        "-----BEGIN PUBLIC KEY-----\n"
        "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQB6SkFDxJPxrxVx9U5M2Xfne9KsMIs\n"
        "sleY+TTrBOPGuuNwGlenkQ6dgb82MVno68sVXWNJ9L22zPipTFxZx6rBAaQANKZE\n"
        "DjdnUNI3H9G9wsjztx0vTuXqNDLIFcyjFWD+XZOH7HdLVYOGMOXLv1qMvgqR3QBk\n"
        "xpmaH25uZ/rd7eTIyPY=\n"
        "-----END PUBLIC KEY-----\n");
    EXPECT_EQ(jwk.type, KeyType::ec_p521);
    EXPECT_EQ(pem.type, KeyType::ec_p521);
    EXPECT_EQ(decoded(kEs512PayloadToken.substr(21, 10)), "Payload");
    const auto [input, sig] = signing_parts(kEs512PayloadToken);
    EXPECT_EQ(sig.size(), 132u);
    EXPECT_TRUE(verify_signature(Alg::ES512, jwk, input, sig));
    EXPECT_TRUE(verify_signature(Alg::ES512, pem, input, sig));
    EXPECT_EQ(verdict(kEs512PayloadToken, {jwk}), kPayloadNotJson);
    EXPECT_EQ(verdict(kEs512PayloadToken, {pem}), kPayloadNotJson);
    std::string tampered = kEs512PayloadToken;
    tampered[22] = 'X';  // "UGX5bG9hZA": another payload
    EXPECT_EQ(verdict(tampered, {jwk}), "signature mismatch");
}

TEST(Rfc8037, A4A5Ed25519Example) {
    const std::string token =
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-"
        "09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    const Key key = only_key(R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
    EXPECT_EQ(key.type, KeyType::ed25519);
    EXPECT_EQ(decoded("RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"), "Example of Ed25519 signing");
    const auto [input, sig] = signing_parts(token);
    EXPECT_TRUE(verify_signature(Alg::EdDSA, key, input, sig));
    EXPECT_FALSE(verify_signature(Alg::EdDSA, key, input + "x", sig));
    EXPECT_EQ(verdict(token, {key}), kPayloadNotJson);
    EXPECT_EQ(verdict(token, {test_key_of_type(KeyType::ed25519)}), "signature mismatch");
}

TEST(Rfc7520, Section41Rs256WithKid) {
    const std::string token =
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9."
        "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW"
        "5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0"
        "by4."
        "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-"
        "BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_"
        "qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_"
        "de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_"
        "fcIe8u9ipH84ogoree7vjbU5y18kDquDg";
    const std::string n =
        "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_"
        "AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-"
        "OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_"
        "mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw";
    // Figure 3's key in a set with an RSA key of another kid and one without a kid.
    const std::string other = test::jwk_members(test_key(KeyType::rsa));
    KeyFile set = parse_key_file(R"({"keys":[{)" + other + R"(,"kid":"frodo"},{)" + other +
                                 R"(},{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":")" + n +
                                 R"(","e":"AQAB"}]})");
    ASSERT_EQ(set.error, "");
    ASSERT_EQ(set.keys.size(), 3u);
    EXPECT_EQ(set.keys[2].kid, "bilbo.baggins@hobbiton.example");
    EXPECT_EQ(verdict(token, set.keys), kPayloadNotJson);
    // Only the key of the token's kid is tried: without it, no key is left.
    set.keys.pop_back();
    EXPECT_EQ(verdict(token, set.keys), "no key of the token's kid for its alg");
}

// ---------------------------------------------------------------------------------------------
// Every algorithm with keys made here, from the PEM and JWK forms the loader reads.

struct AlgCase {
    Alg alg;
    KeyType type;
};

const AlgCase kAlgCases[] = {
    {Alg::HS256, KeyType::oct},     {Alg::HS384, KeyType::oct},     {Alg::HS512, KeyType::oct},
    {Alg::RS256, KeyType::rsa},     {Alg::RS384, KeyType::rsa},     {Alg::RS512, KeyType::rsa},
    {Alg::PS256, KeyType::rsa},     {Alg::PS384, KeyType::rsa},     {Alg::PS512, KeyType::rsa},
    {Alg::ES256, KeyType::ec_p256}, {Alg::ES384, KeyType::ec_p384}, {Alg::ES512, KeyType::ec_p521},
    {Alg::EdDSA, KeyType::ed25519},
};

void PrintTo(const AlgCase &c, std::ostream *os) {
    *os << alg_name(c.alg);
}

struct AlgName {
    std::string operator()(const testing::TestParamInfo<AlgCase> &info) const {
        return std::string(alg_name(info.param.alg));
    }
};

// The forms a key file may take for this key.
std::vector<std::string> key_files(const test::TestKey &key) {
    std::vector<std::string> files = {test::jwk(key), "{\"keys\":[" + test::jwk(key, R"("kid":"k1")") + "]}"};
    if (key.type != KeyType::oct) files.push_back(test::spki_pem(key));
    if (key.type == KeyType::rsa) files.push_back(test::pkcs1_pem(key));
    return files;
}

KeySet keys_of(const std::string &file) {
    KeyFile parsed = parse_key_file(file);
    EXPECT_EQ(parsed.error, "") << file;
    return parsed.keys;
}

class EveryAlgorithm : public testing::TestWithParam<AlgCase> {};

TEST_P(EveryAlgorithm, VerifiesWithEveryKeyForm) {
    const AlgCase &c = GetParam();
    const test::TestKey &key = test_key(c.type);
    const std::string token = mint(c.alg, key, test::header_for(c.alg), R"({"device_id":"dev-1"})");
    const std::string with_kid = mint(c.alg, key, test::header_for(c.alg, R"("kid":"k1")"), R"({"device_id":"dev-1"})");
    for (const std::string &file : key_files(key)) {
        SCOPED_TRACE(file);
        const KeySet keys = keys_of(file);
        ASSERT_EQ(keys.size(), 1u);
        EXPECT_EQ(keys[0].type, c.type);
        EXPECT_EQ(verdict(token, keys, "device_id"), "ok:dev-1");
        // a kid selects: the key of that kid, never a kid-less one
        EXPECT_EQ(verdict(with_kid, keys, "device_id"),
                  keys[0].kid ? "ok:dev-1" : "no key of the token's kid for its alg");
    }
}

TEST_P(EveryAlgorithm, RefusesTamperedSignatures) {
    const AlgCase &c = GetParam();
    const test::TestKey &key = test_key(c.type);
    const KeySet keys = keys_of(test::jwk(key));
    const std::string token = mint(c.alg, key, test::header_for(c.alg), R"({"device_id":"dev-1"})");
    const auto [input, sig] = signing_parts(token);
    ASSERT_TRUE(verify_signature(c.alg, keys[0], input, sig));

    std::vector<std::pair<std::string, std::string>> bad = {
        {"empty", ""},
        {"one_byte_short", sig.substr(0, sig.size() - 1)},
        {"one_byte_long", sig + '\0'},
        {"doubled", sig + sig},
        {"all_zero", std::string(sig.size(), '\0')},
        {"all_ones", std::string(sig.size(), '\xff')},
    };
    for (std::size_t bit : {std::size_t{0}, sig.size() * 4, sig.size() * 8 - 1}) {
        std::string flipped = sig;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        bad.emplace_back("bit_" + std::to_string(bit), flipped);
    }
    if (c.type != KeyType::oct && c.type != KeyType::rsa && c.type != KeyType::ed25519) {
        bad.emplace_back("der_not_raw", test::sign(c.alg, key, input, /*der=*/true));
        const std::size_t half = sig.size() / 2;
        bad.emplace_back("r_and_s_swapped", sig.substr(half) + sig.substr(0, half));
        bad.emplace_back("r_only", sig.substr(0, half) + std::string(half, '\0'));
    }
    for (const auto &[name, signature] : bad) {
        EXPECT_FALSE(verify_signature(c.alg, keys[0], input, signature)) << name;
    }
    EXPECT_FALSE(verify_signature(c.alg, keys[0], input + ".", sig));
    EXPECT_FALSE(verify_signature(c.alg, keys[0], input.substr(1), sig));
    // another key of the same type
    const KeySet other = keys_of(test::jwk(test_key(c.type, 1)));
    EXPECT_FALSE(verify_signature(c.alg, other[0], input, sig));
    EXPECT_EQ(verdict(token, other, "device_id"), "signature mismatch");
}

TEST_P(EveryAlgorithm, NoOtherKeyTypeServes) {
    // The key type must match the algorithm: every other type is refused even before the
    // signature is looked at (an RSA public key is never an HMAC secret).
    const AlgCase &c = GetParam();
    const std::string token = mint(c.alg, test_key(c.type), test::header_for(c.alg), R"({"device_id":"dev-1"})");
    const auto [input, sig] = signing_parts(token);
    for (KeyType other :
         {KeyType::oct, KeyType::rsa, KeyType::ec_p256, KeyType::ec_p384, KeyType::ec_p521, KeyType::ed25519}) {
        if (other == c.type) continue;
        SCOPED_TRACE(std::string(key_type_name(other)));
        const KeySet keys = keys_of(test::jwk(test_key(other)));
        EXPECT_FALSE(verify_signature(c.alg, keys[0], input, sig));
        JwtConfig config;
        config.keys = keys;
        config.algorithms.add(c.alg);  // even when allowed explicitly
        EXPECT_EQ(verify_jwt(token, config, 0).reason, "no key for the token's alg");
        config.algorithms = AlgSet{};  // by default, the key's own algorithms only
        EXPECT_EQ(verify_jwt(token, config, 0).reason, "alg not allowed");
    }
}

TEST_P(EveryAlgorithm, AJwkAlgPinsItsAlgorithm) {
    const AlgCase &c = GetParam();
    const test::TestKey &key = test_key(c.type);
    const std::string token = mint(c.alg, key, test::header_for(c.alg), R"({"device_id":"dev-1"})");
    for (const AlgCase &other : kAlgCases) {
        if (other.type != c.type) continue;
        const KeySet keys = keys_of(test::jwk(key, R"("alg":")" + std::string(alg_name(other.alg)) + "\""));
        ASSERT_EQ(keys[0].alg, other.alg);
        JwtConfig config;
        config.keys = keys;
        config.device_claim = "device_id";
        const AuthResult result = verify_jwt(token, config, 0);
        if (other.alg == c.alg) {
            EXPECT_EQ(result.device_id, "dev-1") << result.reason;
        } else {
            EXPECT_EQ(result.reason, "alg not allowed") << alg_name(other.alg);
            config.algorithms.add(c.alg);
            EXPECT_EQ(verify_jwt(token, config, 0).reason, "no key for the token's alg");
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Jws, EveryAlgorithm, testing::ValuesIn(kAlgCases), AlgName());

// ---------------------------------------------------------------------------------------------
// Crossed algorithms and keys

TEST(AlgorithmConfusion, RsaPublicKeyAsHmacSecret) {
    // The classic: a token "signed" with HS256 using the RSA public key's PEM as the secret.
    const test::TestKey &rsa = test_key(KeyType::rsa);
    const std::string pem = test::spki_pem(rsa);
    test::TestKey as_secret;
    as_secret.secret = pem;
    const std::string token = mint(Alg::HS256, as_secret, R"({"alg":"HS256"})", R"({"device_id":"admin"})");
    const KeySet keys = keys_of(pem);
    EXPECT_EQ(verdict(token, keys, "device_id"), "alg not allowed");
    JwtConfig config;
    config.keys = keys;
    config.algorithms.add(Alg::HS256);
    config.algorithms.add(Alg::RS256);
    EXPECT_EQ(verify_jwt(token, config, 0).reason, "no key for the token's alg");
    // the key file's own bytes are not a key either, whatever the JWK says
    const auto [input, sig] = signing_parts(token);
    EXPECT_FALSE(verify_signature(Alg::HS256, keys[0], input, sig));
}

TEST(AlgorithmConfusion, RsaPkcs1AndPssAreNotInterchangeable) {
    const test::TestKey &rsa = test_key(KeyType::rsa);
    const KeySet keys = keys_of(test::spki_pem(rsa));
    for (auto [signed_as, claimed] : {std::pair{Alg::RS256, Alg::PS256}, std::pair{Alg::PS256, Alg::RS256},
                                      std::pair{Alg::RS256, Alg::RS512}, std::pair{Alg::PS384, Alg::PS256}}) {
        const std::string input =
            base64url_encode(test::header_for(claimed)) + "." + base64url_encode(R"({"device_id":"d"})");
        const std::string sig = test::sign(signed_as, rsa, input);
        EXPECT_FALSE(verify_signature(claimed, keys[0], input, sig))
            << alg_name(signed_as) << " as " << alg_name(claimed);
        EXPECT_EQ(verdict(input + "." + base64url_encode(sig), keys, "device_id"), "signature mismatch");
    }
}

TEST(AlgorithmConfusion, EcdsaCurveMustMatch) {
    // An ES256 token signed with a P-384 key (96-byte signature) and the other way round.
    const test::TestKey &p384 = test_key(KeyType::ec_p384);
    const std::string input = base64url_encode(R"({"alg":"ES256"})") + "." + base64url_encode(R"({"device_id":"d"})");
    const std::string sig = test::sign(Alg::ES384, p384, input);
    const KeySet keys = keys_of(test::spki_pem(p384));
    EXPECT_FALSE(verify_signature(Alg::ES256, keys[0], input, sig));
    JwtConfig config;
    config.keys = keys;
    config.algorithms.add(Alg::ES256);
    EXPECT_EQ(verify_jwt(input + "." + base64url_encode(sig), config, 0).reason, "no key for the token's alg");
}

TEST(KeySelection, WithoutKidEveryFittingKeyIsTriedWithKidOnlyItsKey) {
    const test::TestKey &a = test_key(KeyType::ec_p256, 0);
    const test::TestKey &b = test_key(KeyType::ec_p256, 1);
    const KeySet keys = keys_of(R"({"keys":[)" + test::jwk(a, R"("kid":"a")") + "," + test::jwk(b, R"("kid":"b")") +
                                "," + test::jwk(test_key(KeyType::oct)) + "]}");
    const std::string payload = R"({"device_id":"d"})";
    EXPECT_EQ(verdict(mint(Alg::ES256, b, R"({"alg":"ES256"})", payload), keys, "device_id"), "ok:d");
    EXPECT_EQ(verdict(mint(Alg::ES256, b, R"({"alg":"ES256","kid":"b"})", payload), keys, "device_id"), "ok:d");
    EXPECT_EQ(verdict(mint(Alg::ES256, b, R"({"alg":"ES256","kid":"a"})", payload), keys, "device_id"),
              "signature mismatch");
    EXPECT_EQ(verdict(mint(Alg::ES256, b, R"({"alg":"ES256","kid":"B"})", payload), keys, "device_id"),
              "no key of the token's kid for its alg");
    EXPECT_EQ(verdict(mint(Alg::ES256, b, R"({"alg":"ES256","kid":"b "})", payload), keys, "device_id"),
              "no key of the token's kid for its alg");
    // the oct key has no kid: an HS256 token with a kid has no key
    EXPECT_EQ(
        verdict(mint(Alg::HS256, test_key(KeyType::oct), R"({"alg":"HS256","kid":"a"})", payload), keys, "device_id"),
        "no key of the token's kid for its alg");
    EXPECT_EQ(verdict(mint(Alg::HS256, test_key(KeyType::oct), R"({"alg":"HS256"})", payload), keys, "device_id"),
              "ok:d");
}

TEST(VerifySignature, LeavesNoOpensslError) {
    const KeySet keys = keys_of(test::jwk(test_key(KeyType::ec_p256)));
    EXPECT_FALSE(verify_signature(Alg::ES256, keys[0], "input", std::string(64, '\xff')));
    EXPECT_FALSE(verify_signature(Alg::RS256, keys[0], "input", "x"));
    EXPECT_EQ(ERR_peek_error(), 0ul);
}

TEST(VerifySignature, AnEmptyKeyVerifiesNothing) {
    const Key empty;  // oct without a secret, as a default-constructed key
    EXPECT_FALSE(verify_signature(Alg::HS256, empty, "input", ""));
    Key no_pkey;
    no_pkey.type = KeyType::rsa;
    EXPECT_FALSE(verify_signature(Alg::RS256, no_pkey, "input", std::string(256, 'x')));
}

}  // namespace
}  // namespace wa_pair
