// Authorization header -> device id (DESIGN.md section 5). Fails closed: every path that is
// not a verified, valid token with a usable device id is a 401.
#include "jwt.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json_parse.hpp"

namespace wa_pair {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::size_t kMaxDeviceIdBytes = 128;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

int base64url_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

const EVP_MD* hmac_digest(std::string_view alg) noexcept
{
    // JWA names are case-sensitive (RFC 7515 section 4.1.1): "hs256" is not HS256.
    if (alg == "HS256") return EVP_sha256();
    if (alg == "HS384") return EVP_sha384();
    if (alg == "HS512") return EVP_sha512();
    return nullptr;
}

// A base64url segment that must decode to a JSON object (parse_json's limits apply: no
// repeated member names, nesting up to kMaxJsonDepth).
bool decode_object(std::string_view segment, json& out)
{
    std::string text;
    if (!base64url_decode(segment, text)) return false;
    out = parse_json(text);
    return out.is_object();
}

// exp and nbf: NumericDate, a JSON number (RFC 7519 section 2). Absent -> true, no value.
bool read_time(const json& payload, const char* name, bool& present, double& value)
{
    present = false;
    const auto it = payload.find(name);
    if (it == payload.end()) return true;
    if (!it->is_number()) return false;
    value = it->get<double>();
    present = true;
    return std::isfinite(value);
}

// No audience can be configured, so a token addressed to someone is not for us (RFC 7519
// section 4.1.3). null, "" and [] address no one (PyJWT reads them the same way); any other
// value, malformed ones included, does.
bool names_an_audience(const json& payload)
{
    const auto aud = payload.find("aud");
    if (aud == payload.end() || aud->is_null()) return false;
    if (aud->is_string()) return !aud->get_ref<const std::string&>().empty();
    if (aud->is_array()) return !aud->empty();
    return true;
}

// Device id rules (.spec-texts.md): 1..128 bytes of 0x21..0x7e, from a string claim or an
// integer claim printed in decimal.
bool read_device_id(const json& claim, std::string& out)
{
    if (claim.is_string()) {
        out = claim.get<std::string>();
    } else if (claim.is_number_integer()) {
        out = claim.dump();
    } else {
        return false;
    }
    if (out.empty() || out.size() > kMaxDeviceIdBytes) return false;
    for (char c : out) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

// `token` has exactly two dots. `result` already holds the failure; it is cleared only when
// every check has passed.
void verify(std::string_view token, const JwtConfig& config, std::time_t now,
            AuthResult& result)
{
    const auto reject = [&](const char* reason) { result.reason = reason; };

    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (token.size() > kMaxTokenBytes) return reject("token longer than 8192 bytes");
    if (config.hmac_secret.empty()) return reject("no HMAC secret configured");

    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return reject("empty header or payload");

    json header;
    if (!decode_object(header_b64, header)) return reject("header is not a valid JSON object");
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string()) return reject("alg missing or not a string");
    const std::string& alg_name = alg->get_ref<const std::string&>();
    if (iequals(alg_name, "none")) return reject("alg none");
    const EVP_MD* digest = hmac_digest(alg_name);
    if (digest == nullptr) return reject("alg not allowed (HS256, HS384, HS512 only)");
    if (const auto typ = header.find("typ"); typ != header.end()) {
        if (!typ->is_string() || !iequals(typ->get_ref<const std::string&>(), "JWT")) {
            return reject("typ is not JWT");
        }
    }
    // crit names extensions the recipient must understand; we understand none.
    if (header.contains("crit")) return reject("crit header not supported");

    // Checked after alg, so that an unsigned "alg":"none" token is logged as what it is.
    if (signature_b64.empty()) return reject("empty signature");
    std::string signature;
    if (!base64url_decode(signature_b64, signature)) return reject("signature is not base64url");
    if (config.hmac_secret.size() > static_cast<std::size_t>(INT_MAX)) {
        return reject("HMAC secret too long");
    }
    const std::string_view signing_input = token.substr(0, dot2);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (HMAC(digest, config.hmac_secret.data(), static_cast<int>(config.hmac_secret.size()),
             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             mac, &mac_len) == nullptr) {
        return reject("HMAC computation failed");
    }
    if (signature.size() != mac_len || CRYPTO_memcmp(signature.data(), mac, mac_len) != 0) {
        return reject("signature mismatch");
    }

    // Only a signed payload is parsed.
    json payload;
    if (!decode_object(payload_b64, payload)) return reject("payload is not a valid JSON object");

    const long leeway_seconds = config.leeway_seconds > 0 ? config.leeway_seconds : 0;
    const double leeway = static_cast<double>(leeway_seconds);
    const double at = static_cast<double>(now);
    bool present = false;
    double exp = 0;
    if (!read_time(payload, "exp", present, exp)) return reject("exp is not a number");
    if (present && at >= exp + leeway) return reject("token expired");
    double nbf = 0;
    if (!read_time(payload, "nbf", present, nbf)) return reject("nbf is not a number");
    if (present && at + leeway < nbf) return reject("token not yet valid");
    // iat is informational, but a malformed one means a malformed token (golang-jwt and PyJWT
    // refuse it too).
    double iat = 0;
    if (!read_time(payload, "iat", present, iat)) return reject("iat is not a number");
    if (names_an_audience(payload)) return reject("aud present but no audience is configured");

    const json* claim = nullptr;
    if (const auto it = payload.find(std::string(config.device_claim));
        it != payload.end() && !it->is_null()) {
        claim = &*it;
    } else if (const auto sub = payload.find("sub"); sub != payload.end() && !sub->is_null()) {
        claim = &*sub;
    }
    if (claim == nullptr) return reject("no device id claim and no sub");
    std::string device_id;
    if (!read_device_id(*claim, device_id)) {
        return reject("device id is not 1..128 printable ASCII characters");
    }

    result.failure = Failure{};
    result.reason.clear();
    result.device_id = std::move(device_id);
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) noexcept
{
    try {
        out.clear();
        if (in.size() % 4 == 1) return false;
        out.reserve(in.size() / 4 * 3 + 2);
        unsigned buffer = 0;
        int bits = 0;
        for (char c : in) {
            const int v = base64url_value(c);
            if (v < 0) {
                out.clear();
                return false;
            }
            buffer = (buffer << 6) | static_cast<unsigned>(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out += static_cast<char>((buffer >> bits) & 0xff);
            }
        }
        // The leftover bits (2 or 4) are padding and must be zero.
        if ((buffer & ((1u << bits) - 1)) != 0) {
            out.clear();
            return false;
        }
        return true;
    } catch (...) {
        out.clear();
        return false;
    }
}

std::string base64url_encode(std::string_view in) noexcept
{
    try {
        std::string out;
        out.reserve((in.size() + 2) / 3 * 4);
        unsigned buffer = 0;
        int bits = 0;
        for (char c : in) {
            buffer = (buffer << 8) | static_cast<unsigned char>(c);
            bits += 8;
            while (bits >= 6) {
                bits -= 6;
                out += kAlphabet[(buffer >> bits) & 0x3f];
            }
        }
        if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
        return out;
    } catch (...) {
        return {};
    }
}

std::string_view extract_credential(std::string_view authorization) noexcept
{
    const std::string_view value = trim(authorization);
    if (value.empty()) return {};

    std::size_t space = 0;
    while (space < value.size() && !is_blank(value[space])) ++space;
    const std::string_view first = value.substr(0, space);
    if (space == value.size()) {
        // One word: the doc's bare "Authorization: <token>", unless it is a lone scheme.
        return iequals(first, "Bearer") ? std::string_view() : first;
    }
    if (!iequals(first, "Bearer")) return {};  // "Basic abc", "Digest ..."
    const std::string_view token = trim(value.substr(space));
    for (char c : token) {
        if (is_blank(c)) return {};  // "Bearer a b"
    }
    return token;
}

AuthResult verify_jwt(std::string_view token, const JwtConfig& config, std::time_t now) noexcept
{
    AuthResult result;
    result.token_presented = !token.empty();
    // The failure is set first and cleared only on success, so that every early return and
    // an exception alike fail closed. Only a JWT-shaped token gets the JWT text.
    const std::size_t dots = static_cast<std::size_t>(std::count(token.begin(), token.end(), '.'));
    const bool jwt_shaped = dots == 2;
    try {
        result.failure.code = 401;
        result.failure.error.assign(jwt_shaped ? kBadJwt : kMissingAuth);
        if (!jwt_shaped) {
            result.reason = token.empty() ? "no token" : "not a JWT (needs exactly two dots)";
            return result;
        }
        verify(token, config, now, result);
        return result;
    } catch (...) {
        result.device_id.clear();
        result.failure.code = 401;
        result.reason = "internal error";  // fits the small-string buffer: no allocation
        return result;
    }
}

AuthResult authenticate(std::string_view authorization, const JwtConfig& config,
                        std::time_t now) noexcept
{
    if (trim(authorization).empty()) {
        AuthResult result;
        try {
            result.failure.code = 401;
            result.failure.error.assign(kMissingAuth);
            result.reason = "no Authorization header";
        } catch (...) {
        }
        return result;
    }
    const std::string_view token = extract_credential(authorization);
    if (token.empty()) {
        AuthResult result;
        result.token_presented = true;
        try {
            result.failure.code = 401;
            result.failure.error.assign(kMissingAuth);
            result.reason = "malformed Authorization header";
        } catch (...) {
        }
        return result;
    }
    return verify_jwt(token, config, now);
}

}  // namespace wa_pair
