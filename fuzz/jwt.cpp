// Fuzz target: the Authorization header -> device id (authenticate, verify_jwt, base64url),
// with an HS256/384/512 key as wa_pair_jwt_secret_file gives.
// Input: byte 0 picks the mode; bytes 1-2 move the clock and the leeway.
//   mode 0: the rest is the Authorization header, as a client could send it;
//   mode 1: the rest is "<header JSON>\n<payload JSON>", signed here with the configured
//           secret (HS384/HS512 when the header says so), so that the fuzzer reaches the
//           claim checks behind the signature.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <string>

#include "auth/auth.hpp"
#include "common/base64url.hpp"
#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

constexpr std::string_view kSecret = "fuzz secret: 32 bytes, not more!";
constexpr std::time_t kNow = 1700000000;

std::string sign(std::string_view header, std::string_view payload) {
    const EVP_MD *md = EVP_sha256();
    if (header.find("HS384") != std::string_view::npos) md = EVP_sha384();
    if (header.find("HS512") != std::string_view::npos) md = EVP_sha512();
    const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, kSecret.data(), static_cast<int>(kSecret.size()), reinterpret_cast<const unsigned char *>(input.data()),
         input.size(), mac, &len);
    return input + "." + base64url_encode(std::string_view(reinterpret_cast<char *>(mac), len));
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

void check_base64url(std::string_view in) {
    if (const std::optional<std::string> decoded = base64url_decode(in)) {
        FUZZ_CHECK(base64url_encode(*decoded) == in, in);  // one value, one encoding
    }
    const std::string encoded = base64url_encode(in);
    FUZZ_CHECK(base64url_decode(encoded) == in, encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    const int mode = data[0] & 1;
    const std::time_t now = kNow + (static_cast<int8_t>(data[1]) * 1000);
    const std::string_view in(reinterpret_cast<const char *>(data) + 3, size - 3);

    static const Key key = hmac_key(kSecret);
    AuthConfig auth_config;
    JwtConfig &config = auth_config.jwt;
    config.keys.push_back(key);
    config.leeway_seconds = data[2] & 0x7f;
    config.device_claim = (data[2] & 0x80) ? "uid" : "device_id";

    std::string authorization;
    if (mode == 0) {
        authorization.assign(in);
        check_base64url(in);
    } else {
        const std::size_t nl = in.find('\n');
        const std::string_view header = in.substr(0, nl);
        const std::string_view payload = nl == std::string_view::npos ? std::string_view("{}") : in.substr(nl + 1);
        authorization = "Bearer " + sign(header, payload);
    }

    const AuthResult auth = authenticate(authorization, auth_config, now);
    const std::string_view token = extract_credential(authorization);
    FUZZ_CHECK(auth.token_presented == !trim_blanks(authorization).empty(), authorization);

    if (auth.failure) {
        // Exactly the contract's two texts: the JWT one only for a JWT-shaped credential.
        FUZZ_CHECK(auth.failure.code == 401, auth.failure.error);
        const bool jwt_shaped = !token.empty() && std::count(token.begin(), token.end(), '.') == 2;
        FUZZ_CHECK(auth.failure.error == (jwt_shaped ? kBadJwt : kMissingAuth), auth.failure.error);
        FUZZ_CHECK(auth.device_id.empty(), auth.device_id);
        // The reason is for the debug log: a short fixed text, never the token or the key.
        FUZZ_CHECK(printable(auth.reason, 100), auth.reason);
        if (token.size() >= 8) FUZZ_CHECK(auth.reason.find(token) == std::string::npos, auth.reason);
        FUZZ_CHECK(auth.reason.find(kSecret) == std::string::npos, auth.reason);
        check_error_envelope(401, auth.failure.error);
        return 0;
    }

    // Success: only a token signed with our key gets here, with a sane device id.
    FUZZ_CHECK(mode == 1, authorization);
    FUZZ_CHECK(auth.reason.empty(), auth.reason);
    FUZZ_CHECK(auth.device_id.size() >= 1 && auth.device_id.size() <= 128, auth.device_id);
    for (char c : auth.device_id) FUZZ_CHECK(c >= 0x21 && c <= 0x7e, auth.device_id);

    // An independent reading of the payload agrees on the device id and the expiry.
    const std::size_t nl = in.find('\n');
    const std::string_view payload_text = nl == std::string_view::npos ? std::string_view("{}") : in.substr(nl + 1);
    const auto payload = nlohmann::json::parse(payload_text, nullptr, false);
    FUZZ_CHECK(payload.is_object(), payload_text);
    auto claim = payload.find(std::string(config.device_claim));
    if (claim == payload.end() || claim->is_null()) claim = payload.find("sub");
    FUZZ_CHECK(claim != payload.end(), payload_text);
    FUZZ_CHECK(claim->is_string() ? claim->get<std::string>() == auth.device_id : claim->dump() == auth.device_id,
               payload_text);
    if (const auto exp = payload.find("exp"); exp != payload.end()) {
        FUZZ_CHECK(exp->is_number() &&
                       exp->get<double>() + static_cast<double>(config.leeway_seconds) > static_cast<double>(now),
                   payload_text);
    }
    return 0;
}
