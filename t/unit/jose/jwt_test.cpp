// JWT verification (docs/contract.md) with HMAC keys: RFC 7515 A.1, the claims, the
// requirements of wa_pair_jwt_require, and an attack table. Asymmetric algorithms: jws_test.cpp;
// PyJWT's tokens: pyjwt_test.cpp.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/base64url.hpp"
#include "jose/jwt.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

const std::string kSecret = "unit-test secret: 32 bytes long!";
constexpr std::time_t kNow = 1700000000;
const std::string kBadJwtText(kBadJwt);
const std::string kMissingAuthText(kMissingAuth);

std::string b64(std::string_view bytes) {
    return base64url_encode(bytes);
}

std::string hmac(const EVP_MD *md, std::string_view secret, std::string_view input) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char *>(input.data()),
         input.size(), mac, &len);
    return std::string(reinterpret_cast<const char *>(mac), len);
}

// A compact JWS over the exact header and payload bytes given, signed with `md`.
std::string mint(std::string_view header, std::string_view payload, std::string_view secret = kSecret,
                 const EVP_MD *md = EVP_sha256()) {
    const std::string input = b64(header) + "." + b64(payload);
    return input + "." + b64(hmac(md, secret, input));
}

constexpr const char *kHs256 = R"({"alg":"HS256","typ":"JWT"})";
constexpr const char *kDevice = R"({"device_id":"dev-42"})";

std::vector<std::string> split(const std::string &token) {
    std::vector<std::string> parts;
    std::stringstream in(token);
    std::string part;
    while (std::getline(in, part, '.')) parts.push_back(part);
    if (!token.empty() && token.back() == '.') parts.push_back("");
    return parts;
}

// ---------------------------------------------------------------------------------------------
// RFC 7515 appendix A.1: the HS256 example, verified byte for byte. Its claims carry no
// device id, so "iss" is configured as the device claim.

TEST(Rfc7515, A1Hs256Example) {
    const std::string token =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const std::optional<std::string> key =
        base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
    ASSERT_TRUE(key);
    JwtConfig config;
    config.keys.push_back(hmac_key(*key));
    config.device_claim = "iss";

    AuthResult result = verify_jwt(token, config, 1300819379);
    EXPECT_FALSE(result.failure) << result.reason;
    EXPECT_EQ(result.device_id, "joe");

    result = verify_jwt(token, config, 1300819380);  // exp reached
    EXPECT_EQ(result.failure.error, kBadJwtText);

    config.device_claim = "device_id";  // neither device_id nor sub
    result = verify_jwt(token, config, 1300819379);
    EXPECT_EQ(result.failure.error, kBadJwtText);
}

// ---------------------------------------------------------------------------------------------
// Tokens built here: what must verify, and the attack table, where everything must fail.

struct JwtRow {
    std::string name;
    std::string token;
    std::string secret = kSecret;
    std::time_t now = kNow;
    long leeway = 0;
    std::string claim = "device_id";
    std::vector<std::string> require;  // wa_pair_jwt_require arguments
    std::string expect;                // device id on success, else the failure text
    std::string why;                   // on failure: the reason logged, which proves which check refused it
};

void PrintTo(const JwtRow &row, std::ostream *os) {
    *os << row.name;
}

JwtRow row(std::string name, std::string token, std::string expect, std::string why = "") {
    JwtRow r;
    r.name = std::move(name);
    r.token = std::move(token);
    r.expect = std::move(expect);
    r.why = std::move(why);
    return r;
}

JwtRow with_time(JwtRow r, std::time_t now, long leeway) {
    r.now = now;
    r.leeway = leeway;
    return r;
}

JwtRow with_secret(JwtRow r, std::string secret) {
    r.secret = std::move(secret);
    return r;
}

JwtRow with_claim(JwtRow r, std::string claim) {
    r.claim = std::move(claim);
    return r;
}

JwtRow with_require(JwtRow r, std::vector<std::string> require) {
    r.require = std::move(require);
    return r;
}

AuthResult run(const JwtRow &r) {
    JwtConfig config;
    if (!r.secret.empty()) config.keys.push_back(hmac_key(r.secret));
    config.device_claim = r.claim;
    config.leeway_seconds = r.leeway;
    for (const std::string &arg : r.require) EXPECT_EQ(add_requirement(arg, config.required), "") << arg;
    return verify_jwt(r.token, config, r.now);
}

std::string payload_with(const std::string &claims) {
    return R"({"device_id":"dev-42",)" + claims + "}";
}

// A token of exactly `size` bytes, validly signed.
std::string token_of_size(std::size_t size) {
    std::size_t pad = 0;
    std::string token;
    for (;;) {
        token = mint(kHs256, R"({"device_id":"dev-42","pad":")" + std::string(pad, 'x') + "\"}");
        if (token.size() >= size) return token;
        ++pad;
    }
}

std::vector<JwtRow> accepted_rows() {
    std::vector<JwtRow> rows = {
        row("hs256", mint(kHs256, kDevice), "dev-42"),
        row("hs384", mint(R"({"alg":"HS384"})", kDevice, kSecret, EVP_sha384()), "dev-42"),
        row("hs512", mint(R"({"alg":"HS512"})", kDevice, kSecret, EVP_sha512()), "dev-42"),
        row("no_typ", mint(R"({"alg":"HS256"})", kDevice), "dev-42"),
        row("typ_mixed_case", mint(R"({"alg":"HS256","typ":"Jwt"})", kDevice), "dev-42"),
        row("unknown_header_fields",
            mint(R"({"alg":"HS256","cty":"x","x5u":"http://a","jku":"http://evil","jwk":{}})", kDevice), "dev-42"),
        row("typ_media_type", mint(R"({"alg":"HS256","typ":"application/jwt"})", kDevice), "dev-42"),
        row("sub_only", mint(kHs256, R"({"sub":"dev-sub"})"), "dev-sub"),
        row("device_id_wins_over_sub", mint(kHs256, R"({"sub":"s","device_id":"d"})"), "d"),
        row("device_id_null_uses_sub", mint(kHs256, R"({"device_id":null,"sub":"s"})"), "s"),
        row("device_id_integer", mint(kHs256, R"({"device_id":42})"), "42"),
        row("device_id_negative", mint(kHs256, R"({"device_id":-5})"), "-5"),
        row("device_id_uint64", mint(kHs256, R"({"device_id":18446744073709551615})"), "18446744073709551615"),
        row("device_id_punctuation", mint(kHs256, R"({"device_id":"!~a:b/c@d"})"), "!~a:b/c@d"),
        row("device_id_128", mint(kHs256, R"({"device_id":")" + std::string(128, 'd') + "\"}"), std::string(128, 'd')),
        with_claim(row("configured_claim", mint(kHs256, R"({"uid":"u-1","device_id":"d"})"), "u-1"), "uid"),
        with_claim(row("configured_claim_absent_uses_sub", mint(kHs256, R"({"device_id":"d","sub":"s"})"), "s"), "uid"),
        with_time(row("exp_one_second_left", mint(kHs256, payload_with(R"("exp":1700000001)")), "dev-42"), kNow, 0),
        with_time(row("exp_within_leeway", mint(kHs256, payload_with(R"("exp":1700000000)")), "dev-42"), kNow + 29, 30),
        with_time(row("nbf_now", mint(kHs256, payload_with(R"("nbf":1700000000)")), "dev-42"), kNow, 0),
        with_time(row("nbf_within_leeway", mint(kHs256, payload_with(R"("nbf":1700000030)")), "dev-42"), kNow, 30),
        row("exp_float", mint(kHs256, payload_with(R"("exp":1700000000.5)")), "dev-42"),
        row("exp_exponent", mint(kHs256, payload_with(R"("exp":1.8e9)")), "dev-42"),
        row("iat_now", mint(kHs256, payload_with(R"("iat":1700000000)")), "dev-42"),
        row("iat_in_past", mint(kHs256, payload_with(R"("iat":1)")), "dev-42"),
        with_time(row("iat_within_leeway", mint(kHs256, payload_with(R"("iat":1700000030)")), "dev-42"), kNow, 30),
        // wa_pair_jwt_require
        with_require(row("require_exp", mint(kHs256, payload_with(R"("exp":1800000000)")), "dev-42"), {"exp"}),
        with_require(row("require_iss", mint(kHs256, payload_with(R"("iss":"https://id.example")")), "dev-42"),
                     {"iss=https://id.example"}),
        with_require(row("require_iss_either", mint(kHs256, payload_with(R"("iss":"b")")), "dev-42"),
                     {"iss=a", "iss=b"}),
        with_require(row("require_aud_string", mint(kHs256, payload_with(R"("aud":"wa-pair")")), "dev-42"),
                     {"aud=wa-pair"}),
        with_require(row("require_aud_in_array", mint(kHs256, payload_with(R"("aud":["x","wa-pair"])")), "dev-42"),
                     {"aud=wa-pair"}),
        with_require(row("require_aud_either", mint(kHs256, payload_with(R"("aud":"edge")")), "dev-42"),
                     {"aud=wa-pair", "aud=edge"}),
        with_require(row("require_any_claim_present", mint(kHs256, payload_with(R"("jti":"j-1")")), "dev-42"), {"jti"}),
        with_require(
            row("require_many",
                mint(kHs256, payload_with(R"("iss":"joe","aud":"wa","exp":1800000000,"nbf":1,"iat":1,"scope":"pair")")),
                "dev-42"),
            {"iss=joe", "aud=wa", "exp", "nbf", "iat", "scope=pair"}),
        row("aud_null", mint(kHs256, payload_with(R"("aud":null)")), "dev-42"),
        row("aud_empty_string", mint(kHs256, payload_with(R"("aud":"")")), "dev-42"),
        row("aud_empty_list", mint(kHs256, payload_with(R"("aud":[])")), "dev-42"),
        with_secret(row("binary_secret", mint(kHs256, kDevice, std::string("\0\n\xff", 3)), "dev-42"),
                    std::string("\0\n\xff", 3)),
        row("exactly_8192_bytes", token_of_size(8192), "dev-42"),
    };
    return rows;
}

class JwtAccepts : public testing::TestWithParam<JwtRow> {};

TEST_P(JwtAccepts, Token) {
    const AuthResult result = run(GetParam());
    EXPECT_FALSE(result.failure) << result.reason;
    EXPECT_EQ(result.failure.code, 0);
    EXPECT_EQ(result.device_id, GetParam().expect);
    EXPECT_TRUE(result.token_presented);
}

INSTANTIATE_TEST_SUITE_P(Table, JwtAccepts, testing::ValuesIn(accepted_rows()), RowName());

// A valid token whose signature contains '-' or '_', so that the standard alphabet's '+' and
// '/' would decode to the very same bytes.
std::string token_with_url_chars() {
    for (int i = 0;; ++i) {
        const std::string token = mint(kHs256, R"({"device_id":"dev-)" + std::to_string(i) + "\"}");
        const std::string sig = split(token)[2];
        if (sig.find_first_of("-_") != std::string::npos) return token;
    }
}

std::string replace_all(std::string s, char from, char to) {
    for (char &c : s) {
        if (c == from) c = to;
    }
    return s;
}

std::vector<JwtRow> attack_rows() {
    const std::string &B = kBadJwtText;
    const std::string &M = kMissingAuthText;
    // the reason logged: proves which check refused the token
    const std::string kAlgNone = "alg none";
    const std::string kAlgNotAllowed = "alg not allowed";
    const std::string kAlgUnknown = "alg unknown";
    const std::string kAlgMissing = "alg missing or not a string";
    const std::string kMismatch = "signature mismatch";
    const std::string kHeader = "header is not a valid JSON object";
    const std::string kPayload = "payload is not a valid JSON object";
    const std::string kTyp = "typ is not JWT";
    const std::string kCrit = "crit header not supported";
    const std::string kSigB64 = "signature is not base64url";
    const std::string kShape = "not a JWT (needs exactly two dots)";
    const std::string kEmpty = "empty header or payload";
    const std::string kExpired = "token expired";
    const std::string kNotYet = "token not yet valid";
    const std::string kAud = "aud present but no audience is configured";
    const std::string kDeviceId = "device id is not 1..128 printable ASCII characters";
    const std::string kNoDeviceId = "no device id claim and no sub";
    const std::string kNoKidKey = "no key of the token's kid for its alg";
    const std::string kFuture = "token issued in the future";
    const std::string kRequired = "a required claim is missing";
    const std::string kOtherValue = "a required claim has another value";
    const std::string kNoAudience = "aud names no accepted audience";
    const std::string good = mint(kHs256, kDevice);
    const auto parts = split(good);
    const std::string h = parts[0], p = parts[1], s = parts[2];
    const std::string unsigned_none = b64(R"({"alg":"none"})") + "." + b64(kDevice) + ".";
    const std::string url_chars = token_with_url_chars();
    std::string flipped = s;
    flipped[0] = flipped[0] == 'A' ? 'B' : 'A';

    std::vector<JwtRow> rows = {
        // alg
        row("alg_none_unsigned", unsigned_none, B, kAlgNone),
        row("alg_None_unsigned", b64(R"({"alg":"None"})") + "." + b64(kDevice) + ".", B, kAlgNone),
        row("alg_NONE_unsigned", b64(R"({"alg":"NONE"})") + "." + b64(kDevice) + ".", B, kAlgNone),
        row("alg_none_signed", mint(R"({"alg":"none"})", kDevice), B, kAlgNone),
        row("alg_None_signed", mint(R"({"alg":"None"})", kDevice), B, kAlgNone),
        row("alg_nOnE_signed", mint(R"({"alg":"nOnE","typ":"JWT"})", kDevice), B, kAlgNone),
        row("alg_RS256_hmac_signed", mint(R"({"alg":"RS256"})", kDevice), B, kAlgNotAllowed),
        row("alg_ES256_hmac_signed", mint(R"({"alg":"ES256"})", kDevice), B, kAlgNotAllowed),
        row("alg_PS256_hmac_signed", mint(R"({"alg":"PS256"})", kDevice), B, kAlgNotAllowed),
        row("alg_EdDSA_hmac_signed", mint(R"({"alg":"EdDSA"})", kDevice), B, kAlgNotAllowed),
        row("alg_lower_case", mint(R"({"alg":"hs256"})", kDevice), B, kAlgUnknown),
        row("alg_trailing_space", mint(R"({"alg":"HS256 "})", kDevice), B, kAlgUnknown),
        row("alg_ES256K", mint(R"({"alg":"ES256K"})", kDevice), B, kAlgUnknown),
        row("alg_Ed25519", mint(R"({"alg":"Ed25519"})", kDevice), B, kAlgUnknown),
        row("alg_missing", mint(R"({"typ":"JWT"})", kDevice), B, kAlgMissing),
        row("alg_empty", mint(R"({"alg":""})", kDevice), B, kAlgUnknown),
        row("alg_array", mint(R"({"alg":["HS256"]})", kDevice), B, kAlgMissing),
        row("alg_number", mint(R"({"alg":256})", kDevice), B, kAlgMissing),
        row("alg_hs384_signed_hs256", mint(R"({"alg":"HS384"})", kDevice), B, kMismatch),
        row("alg_duplicate_none_last", mint(R"({"alg":"HS256","alg":"none"})", kDevice), B, kHeader),
        row("alg_duplicate_hs256_last", mint(R"({"alg":"none","alg":"HS256"})", kDevice), B, kHeader),
        // other header fields
        row("typ_jose_json", mint(R"({"alg":"HS256","typ":"JOSE+JSON"})", kDevice), B, kTyp),
        row("typ_jose", mint(R"({"alg":"HS256","typ":"JOSE"})", kDevice), B, kTyp),
        row("typ_number", mint(R"({"alg":"HS256","typ":1})", kDevice), B, kTyp),
        row("typ_null", mint(R"({"alg":"HS256","typ":null})", kDevice), B, kTyp),
        row("crit", mint(R"({"alg":"HS256","crit":["exp"],"exp":1})", kDevice), B, kCrit),
        row("crit_empty", mint(R"({"alg":"HS256","crit":[]})", kDevice), B, kCrit),
        row("b64_false", mint(R"({"alg":"HS256","b64":false,"crit":["b64"]})", kDevice), B, kCrit),
        row("header_not_json", mint("not json", kDevice), B, kHeader),
        row("header_array", mint(R"(["HS256"])", kDevice), B, kHeader),
        row("header_string", mint(R"("HS256")", kDevice), B, kHeader),
        row("header_trailing_garbage", mint(R"({"alg":"HS256"}x)", kDevice), B, kHeader),
        row("header_invalid_utf8", mint("{\"alg\":\"HS256\",\"x\":\"\xff\"}", kDevice), B, kHeader),
        row("header_too_deep", mint(R"({"alg":"HS256","x":[[[[[[[[1]]]]]]]]})", kDevice), B, kHeader),
        // kid: the secret file's key has none, so a token naming one finds no key
        row("kid_unknown", mint(R"({"alg":"HS256","kid":"k1"})", kDevice), B, kNoKidKey),
        row("kid_empty", mint(R"({"alg":"HS256","kid":""})", kDevice), B, kNoKidKey),
        row("kid_path", mint(R"({"alg":"HS256","kid":"../../../../dev/null"})", kDevice), B, kNoKidKey),
        row("kid_sql", mint(R"({"alg":"HS256","kid":"x' OR '1'='1"})", kDevice), B, kNoKidKey),
        row("kid_url", mint(R"({"alg":"HS256","kid":"https://evil.example/key"})", kDevice), B, kNoKidKey),
        row("kid_number", mint(R"({"alg":"HS256","kid":1})", kDevice), B, "kid is not a string"),
        row("kid_null", mint(R"({"alg":"HS256","kid":null})", kDevice), B, "kid is not a string"),
        row("kid_array", mint(R"({"alg":"HS256","kid":["k1"]})", kDevice), B, "kid is not a string"),
        // size
        row("oversized_header", mint(R"({"alg":"HS256","x":")" + std::string(1600, 'x') + "\"}", kDevice), B,
            "header longer than 2048 bytes"),
        // tampering
        row("tampered_header", b64(R"({"alg":"HS256","typ":"JWT","x":1})") + "." + p + "." + s, B, kMismatch),
        row("tampered_payload", h + "." + b64(R"({"device_id":"admin"})") + "." + s, B, kMismatch),
        row("tampered_signature", h + "." + p + "." + flipped, B, kMismatch),
        row("signature_of_other_token",
            h + "." + b64(R"({"device_id":"admin"})") + "." + split(mint(kHs256, R"({"device_id":"x"})"))[2], B,
            kMismatch),
        row("signature_truncated", h + "." + p + "." + s.substr(0, s.size() - 2), B, kSigB64),
        row("signature_extended", h + "." + p + "." + s + "AA", B, kSigB64),
        row("wrong_secret", mint(kHs256, kDevice, "another secret"), B, kMismatch),
        row("hs256_signature_as_hs512", h + "." + p + "." + s + s, B, kSigB64),
        // shape and encoding
        row("truncated_to_two_segments", h + "." + p, M, kShape),
        row("one_segment", h, M, kShape),
        row("extra_segment", good + ".AAAA", M, kShape),
        row("five_segments_jwe_like", h + ".." + p + "." + s + ".AAAA", M, kShape),
        row("empty_header", "." + p + "." + s, B, kEmpty),
        row("empty_payload", h + ".." + s, B, kEmpty),
        row("empty_signature", h + "." + p + ".", B, "empty signature"),
        row("only_dots", "..", B, kEmpty),
        row("padding_on_signature", good + "=", B, kSigB64),
        row("padding_on_header", b64(kHs256) + "=." + p + "." + s, B, kHeader),
        row("standard_alphabet", replace_all(replace_all(url_chars, '-', '+'), '_', '/'), B, kSigB64),
        row("space_in_token", h + "." + p + " ." + s, B, kMismatch),
        row("non_ascii_in_token", h + "." + p + ".\xc3\xa9" + s, B, kSigB64),
        row("oversized_8193", token_of_size(8193), B, "token longer than 8192 bytes"),
        row("oversized_not_jwt", std::string(9000, 'a'), M, kShape),
        // payload
        row("payload_not_json", mint(kHs256, "device_id=dev-42"), B, kPayload),
        row("payload_array", mint(kHs256, R"([{"device_id":"dev-42"}])"), B, kPayload),
        row("payload_string", mint(kHs256, R"("dev-42")"), B, kPayload),
        row("payload_too_deep", mint(kHs256, payload_with(R"("x":[[[[[[[[1]]]]]]]])")), B, kPayload),
        row("payload_duplicate_exp", mint(kHs256, R"({"device_id":"dev-42","exp":1,"exp":9999999999})"), B, kPayload),
        row("payload_duplicate_device_id", mint(kHs256, R"({"device_id":"dev-42","device_id":"admin"})"), B, kPayload),
        // exp and nbf
        row("expired_exactly_now", mint(kHs256, payload_with(R"("exp":1700000000)")), B, kExpired),
        row("expired_long_ago", mint(kHs256, payload_with(R"("exp":1)")), B, kExpired),
        with_time(row("expired_at_leeway_edge", mint(kHs256, payload_with(R"("exp":1700000000)")), B, kExpired),
                  kNow + 30, 30),
        row("exp_negative", mint(kHs256, payload_with(R"("exp":-1)")), B, kExpired),
        row("exp_string", mint(kHs256, payload_with(R"("exp":"1800000000")")), B, "exp is not a number"),
        row("exp_null", mint(kHs256, payload_with(R"("exp":null)")), B, "exp is not a number"),
        row("exp_bool", mint(kHs256, payload_with(R"("exp":true)")), B, "exp is not a number"),
        row("exp_array", mint(kHs256, payload_with(R"("exp":[1800000000])")), B, "exp is not a number"),
        row("exp_overflow", mint(kHs256, payload_with(R"("exp":1e400)")), B, kPayload),
        row("nbf_in_future", mint(kHs256, payload_with(R"("nbf":1700000001)")), B, kNotYet),
        with_time(row("nbf_beyond_leeway", mint(kHs256, payload_with(R"("nbf":1700000031)")), B, kNotYet), kNow, 30),
        row("nbf_string", mint(kHs256, payload_with(R"("nbf":"0")")), B, "nbf is not a number"),
        row("nbf_overflow", mint(kHs256, payload_with(R"("nbf":-1e400)")), B, kPayload),
        row("iat_string", mint(kHs256, payload_with(R"("iat":"whenever")")), B, "iat is not a number"),
        row("iat_in_future", mint(kHs256, payload_with(R"("iat":1700000001)")), B, kFuture),
        row("iat_far_future", mint(kHs256, payload_with(R"("iat":1800000000)")), B, kFuture),
        with_time(row("iat_beyond_leeway", mint(kHs256, payload_with(R"("iat":1700000031)")), B, kFuture), kNow, 30),
        // wa_pair_jwt_require
        with_require(row("require_exp_absent", mint(kHs256, kDevice), B, kRequired), {"exp"}),
        with_require(row("require_nbf_absent", mint(kHs256, kDevice), B, kRequired), {"nbf"}),
        with_require(row("require_iss_absent", mint(kHs256, kDevice), B, kRequired), {"iss=joe"}),
        with_require(row("require_iss_null", mint(kHs256, payload_with(R"("iss":null)")), B, kRequired), {"iss=joe"}),
        with_require(row("require_iss_other", mint(kHs256, payload_with(R"("iss":"eve")")), B, kOtherValue),
                     {"iss=joe"}),
        with_require(row("require_iss_case", mint(kHs256, payload_with(R"("iss":"Joe")")), B, kOtherValue),
                     {"iss=joe"}),
        with_require(row("require_iss_prefix", mint(kHs256, payload_with(R"("iss":"joe2")")), B, kOtherValue),
                     {"iss=joe"}),
        with_require(row("require_iss_array", mint(kHs256, payload_with(R"("iss":["joe"])")), B, kOtherValue),
                     {"iss=joe"}),
        with_require(row("require_iss_number", mint(kHs256, payload_with(R"("iss":1)")), B, kOtherValue), {"iss=1"}),
        with_require(row("require_aud_absent", mint(kHs256, kDevice), B, kRequired), {"aud=wa-pair"}),
        with_require(row("require_aud_other", mint(kHs256, payload_with(R"("aud":"other")")), B, kNoAudience),
                     {"aud=wa-pair"}),
        with_require(row("require_aud_array_other", mint(kHs256, payload_with(R"("aud":["a","b"])")), B, kNoAudience),
                     {"aud=wa-pair"}),
        with_require(
            row("require_aud_array_bad_item", mint(kHs256, payload_with(R"("aud":["wa-pair",1])")), B, kNoAudience),
            {"aud=wa-pair"}),
        with_require(row("require_aud_empty_array", mint(kHs256, payload_with(R"("aud":[])")), B, kNoAudience),
                     {"aud=wa-pair"}),
        with_require(row("require_aud_object", mint(kHs256, payload_with(R"("aud":{"wa-pair":1})")), B, kNoAudience),
                     {"aud=wa-pair"}),
        with_require(
            row("require_one_of_many_missing", mint(kHs256, payload_with(R"("iss":"joe","aud":"wa")")), B, kRequired),
            {"iss=joe", "aud=wa", "exp"}),
        with_require(row("require_scope_other", mint(kHs256, payload_with(R"("scope":"admin")")), B, kOtherValue),
                     {"scope=pair"}),
        row("aud_present", mint(kHs256, payload_with(R"("aud":"another-service")")), B, kAud),
        row("aud_list", mint(kHs256, payload_with(R"("aud":["wa-pair"])")), B, kAud),
        row("aud_number", mint(kHs256, payload_with(R"("aud":1)")), B, kAud),
        // device id
        row("no_device_id_no_sub", mint(kHs256, R"({"api_key_id":7,"version":1})"), B, kNoDeviceId),
        row("device_id_control_char", mint(kHs256, R"({"device_id":"dev\u000142"})"), B, kDeviceId),
        row("device_id_newline", mint(kHs256, R"({"device_id":"dev-42\n"})"), B, kDeviceId),
        row("device_id_del", mint(kHs256, R"({"device_id":"dev\u007f"})"), B, kDeviceId),
        row("device_id_space", mint(kHs256, R"({"device_id":"dev 42"})"), B, kDeviceId),
        row("device_id_tab", mint(kHs256, R"({"device_id":"dev\t42"})"), B, kDeviceId),
        row("device_id_129", mint(kHs256, R"({"device_id":")" + std::string(129, 'd') + "\"}"), B, kDeviceId),
        row("device_id_empty", mint(kHs256, R"({"device_id":"","sub":"s"})"), B, kDeviceId),
        row("device_id_non_ascii", mint(kHs256, R"({"device_id":"d\u00e9v"})"), B, kDeviceId),
        row("device_id_float", mint(kHs256, R"({"device_id":4.2})"), B, kDeviceId),
        row("device_id_bool", mint(kHs256, R"({"device_id":true})"), B, kDeviceId),
        row("device_id_object", mint(kHs256, R"({"device_id":{"id":"x"}})"), B, kDeviceId),
        row("device_id_array", mint(kHs256, R"({"device_id":["x"]})"), B, kDeviceId),
        row("device_id_invalid_no_fallback", mint(kHs256, R"({"device_id":"a b","sub":"ok"})"), B, kDeviceId),
        row("sub_invalid", mint(kHs256, R"({"sub":"a b"})"), B, kDeviceId),
        with_claim(row("configured_claim_only_device_id", mint(kHs256, kDevice), B, kNoDeviceId), "uid"),
        // configuration
        with_secret(row("no_key_configured", good, B, kAlgNotAllowed), ""),
        with_secret(row("no_secret_not_jwt", "abc", M, kShape), ""),
        row("empty_token", "", M, "no token"),
    };
    return rows;
}

class JwtRejects : public testing::TestWithParam<JwtRow> {};

TEST_P(JwtRejects, Token) {
    const JwtRow &r = GetParam();
    const AuthResult result = run(r);
    EXPECT_EQ(result.failure.code, 401);
    EXPECT_EQ(result.failure.error, r.expect) << result.reason;
    EXPECT_EQ(result.reason, r.why);
    EXPECT_EQ(result.device_id, "");
    EXPECT_EQ(result.token_presented, !r.token.empty());
    // The debug log reason names the check, never the token or the secret.
    EXPECT_FALSE(result.reason.empty());
    EXPECT_LT(result.reason.size(), 80u);
    for (const std::string &part : split(r.token)) {
        if (part.size() >= 8) {
            EXPECT_EQ(result.reason.find(part), std::string::npos);
        }
    }
    EXPECT_EQ(result.reason.find(kSecret), std::string::npos);
    for (char c : result.reason) EXPECT_TRUE(c >= 0x20 && c <= 0x7e);
}

INSTANTIATE_TEST_SUITE_P(Table, JwtRejects, testing::ValuesIn(attack_rows()), RowName());

// ---------------------------------------------------------------------------------------------
// wa_pair_jwt_require: parsing its arguments, and inheritance

std::string describe(const std::vector<ClaimRequirement> &reqs) {
    std::string out;
    for (const ClaimRequirement &r : reqs) {
        out += r.claim;
        for (const std::string &v : r.values) out += (&v == &r.values[0] ? "=" : "|") + v;
        out += ';';
    }
    return out;
}

std::vector<ClaimRequirement> parse(std::vector<std::string> args) {
    std::vector<ClaimRequirement> reqs;
    for (const std::string &arg : args) EXPECT_EQ(add_requirement(arg, reqs), "") << arg;
    return reqs;
}

TEST(Requirements, Parse) {
    EXPECT_EQ(describe(parse({"exp"})), "exp;");
    EXPECT_EQ(describe(parse({"iss=https://id.example/a?b=c"})), "iss=https://id.example/a?b=c;");
    EXPECT_EQ(describe(parse({"iss=a", "iss=b", "iss=a"})), "iss=a|b;");
    EXPECT_EQ(describe(parse({"iss", "iss=a"})), "iss=a;");
    EXPECT_EQ(describe(parse({"iss=a", "iss"})), "iss=a;");
    EXPECT_EQ(describe(parse({"aud=x", "exp", "nbf", "iat", "scope=pair x"})), "aud=x;exp;nbf;iat;scope=pair x;");
    EXPECT_EQ(describe(parse({"iss=a=b"})), "iss=a=b;");  // the first "=" separates
    EXPECT_EQ(describe(parse({"http://example.com/is_root"})), "http://example.com/is_root;");
}

struct RequireRefusal {
    const char *name;
    std::string arg;
    std::string error;
};

void PrintTo(const RequireRefusal &row, std::ostream *os) {
    *os << row.name;
}

class RequirementRefused : public testing::TestWithParam<RequireRefusal> {};

TEST_P(RequirementRefused, Arg) {
    std::vector<ClaimRequirement> reqs;
    EXPECT_EQ(add_requirement(GetParam().arg, reqs), GetParam().error);
    EXPECT_TRUE(reqs.empty());
}

const std::string kBadName = "a claim name is 1 to 64 printable characters without \"=\"";
const std::string kBadValue = "a claim value is 1 to 1024 bytes";

const RequireRefusal kRequireRefusals[] = {
    {"empty", "", kBadName},
    {"only_equals", "=x", kBadName},
    {"space_in_name", "is s=x", kBadName},
    {"tab_in_name", "is\ts", kBadName},
    {"non_ascii_name", "\xc3\xa9", kBadName},
    {"name_65", std::string(65, 'c'), kBadName},
    {"empty_value", "iss=", kBadValue},
    {"value_1025", "iss=" + std::string(1025, 'v'), kBadValue},
    {"control_in_value", "iss=a\nb", "a claim value has no control characters"},
    {"del_in_value", "iss=a\x7f", "a claim value has no control characters"},
    {"exp_with_value", "exp=1", "\"exp\" takes no value"},
    {"nbf_with_value", "nbf=0", "\"nbf\" takes no value"},
    {"iat_with_value", "iat=0", "\"iat\" takes no value"},
    {"aud_without_value", "aud", "\"aud\" needs a value: aud=AUDIENCE"},
};

INSTANTIATE_TEST_SUITE_P(Table, RequirementRefused, testing::ValuesIn(kRequireRefusals), RowName());

TEST(Requirements, ALocationReplacesTheClaimsItNamesAndKeepsTheOthers) {
    const auto server = parse({"iss=a", "aud=wa", "exp"});
    EXPECT_EQ(describe(merge_requirements(server, parse({"iss=b"}))), "aud=wa;exp;iss=b;");
    EXPECT_EQ(describe(merge_requirements(server, parse({"nbf"}))), "iss=a;aud=wa;exp;nbf;");
    EXPECT_EQ(describe(merge_requirements(server, {})), "iss=a;aud=wa;exp;");
    EXPECT_EQ(describe(merge_requirements({}, server)), "iss=a;aud=wa;exp;");
    EXPECT_EQ(describe(merge_requirements(server, parse({"aud=x", "aud=y", "exp"}))), "iss=a;aud=x|y;exp;");
}

}  // namespace
}  // namespace wa_pair
