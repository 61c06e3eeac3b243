// A compact JWS -> device id and forwarded claims (docs/contract.md). Fails closed: every
// path that is not a verified, valid token with a usable device id is a 401.
#include "jose/jwt.hpp"
#include "common/ascii.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/base64url.hpp"
#include "common/json_scan.hpp"
#include "jose/jws.hpp"

namespace wa_pair {

namespace {

constexpr std::size_t kMaxTokenBytes = 8192;
constexpr std::size_t kMaxHeaderBytes = 2048;
constexpr std::size_t kMaxIdentifierBytes = 128;
constexpr std::size_t kMaxClaimNameBytes = 64;
constexpr std::size_t kMaxClaimValueBytes = 1024;

using ascii::iequals;
using ascii::lower;

// The member `name` when present and not null: null is read as absent.
const JsonValue *find_set(const JsonObject &object, std::string_view name) noexcept {
    const JsonValue *value = object.find(name);
    return value != nullptr && !value->is_null() ? value : nullptr;
}

// A time claim as the payload holds it.
struct TimeClaim {
    enum class Kind { absent, number, malformed };
    Kind kind = Kind::absent;
    double value = 0;  // when a number
};

// exp, nbf and iat: NumericDate, a finite JSON number (RFC 7519 section 2); null is malformed.
TimeClaim read_time(const JsonObject &payload, std::string_view name) noexcept {
    const JsonValue *claim = payload.find(name);
    if (claim == nullptr) return TimeClaim{};
    if (!claim->is_number()) return TimeClaim{TimeClaim::Kind::malformed, 0};
    const double value = claim->as_double();
    if (!std::isfinite(value)) return TimeClaim{TimeClaim::Kind::malformed, 0};
    return TimeClaim{TimeClaim::Kind::number, value};
}

// null, "" and [] address no one (PyJWT reads them the same way); any other value,
// malformed ones included, does.
bool names_an_audience(const JsonValue &aud) noexcept {
    if (aud.is_null()) return false;
    if (aud.is_string()) return !aud.raw.empty();  // an escape never decodes to nothing
    if (aud.kind == JsonKind::array) return !aud.empty_container();
    return true;
}

bool equals_one_of(const JsonValue &value, const std::vector<std::string> &accepted) {
    if (!value.is_string()) return false;
    std::string scratch;
    const std::string_view s = value.decoded(scratch);
    return std::find(accepted.begin(), accepted.end(), s) != accepted.end();
}

// aud: a string, or an array of strings one of which is accepted (RFC 7519 section 4.1.3).
bool audience_accepted(const JsonValue &aud, const std::vector<std::string> &accepted) {
    if (aud.is_string()) return equals_one_of(aud, accepted);
    if (aud.kind != JsonKind::array) return false;
    bool found = false;
    JsonArrayItems items(aud);
    JsonValue item;
    while (items.next(item)) {
        if (!item.is_string()) return false;  // a malformed audience is no audience
        found = found || equals_one_of(item, accepted);
    }
    return found;
}

// A string claim, or an integer claim printed in decimal (as nlohmann's dump() prints it:
// "-0" is 0), that is an identifier.
std::optional<std::string> read_identifier(const JsonValue &claim) {
    std::string out;
    if (claim.is_string()) {
        out = claim.string();
    } else if (claim.is_integer()) {
        char digits[24];
        const std::to_chars_result printed = claim.number == JsonNumber::unsigned_integer
                                                 ? std::to_chars(digits, digits + sizeof digits, claim.unsigned_value)
                                                 : std::to_chars(digits, digits + sizeof digits, claim.integer_value);
        out.assign(digits, printed.ptr);
    } else {
        return std::nullopt;
    }
    if (!is_identifier(out)) return std::nullopt;
    return out;
}

bool valid_claim_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxClaimNameBytes) return false;
    for (char c : name) {
        if (c < 0x21 || c > 0x7e || c == '=') return false;
    }
    return true;
}

// `token` has exactly two dots. `result` already holds the failure; it is cleared only when
// every check has passed.
void verify(std::string_view token, const JwtConfig &config, std::time_t now, const KeySet *fetched,
            AuthResult &result) {
    const auto reject = [&](const char *reason) { result.reason = reason; };

    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.find('.', dot1 + 1);
    if (token.size() > kMaxTokenBytes) return reject("token longer than 8192 bytes");
    if (dot1 > kMaxHeaderBytes) return reject("header longer than 2048 bytes");

    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signature_b64 = token.substr(dot2 + 1);
    if (header_b64.empty() || payload_b64.empty()) return reject("empty header or payload");

    // Header and payload are base64url segments that must decode to JSON objects (the scanner's
    // limits apply: no repeated member names, nesting up to kMaxJsonDepth); the objects' views
    // point into the decoded text.
    const std::optional<std::string> header_text = base64url_decode(header_b64);
    JsonObject header;
    if (!header_text || scan_json_object(*header_text, header) != JsonScan::object) {
        return reject("header is not a valid JSON object");
    }
    const JsonValue *alg_value = header.find("alg");
    if (alg_value == nullptr || !alg_value->is_string()) return reject("alg missing or not a string");
    std::string alg_scratch;
    const std::string_view alg_name = alg_value->decoded(alg_scratch);
    if (iequals(alg_name, "none")) return reject("alg none");
    const std::optional<Alg> alg = alg_from_name(alg_name);
    if (!alg) return reject("alg unknown");
    AlgSet allowed = config.algorithms;
    const bool derived = allowed.empty();
    if (derived) {
        allowed = algorithms_for(config.keys);
        if (fetched != nullptr) allowed.add_all(algorithms_for(*fetched));
    }
    if (!allowed.contains(*alg)) {
        result.no_key = derived;  // no key of the alg's type: none may have been fetched yet
        return reject("alg not allowed");
    }
    if (const JsonValue *typ_value = header.find("typ"); typ_value != nullptr) {
        if (!typ_value->is_string()) return reject("typ is not JWT");
        std::string scratch;
        const std::string_view typ = typ_value->decoded(scratch);
        if (!(iequals(typ, "JWT") || iequals(typ, "application/jwt"))) return reject("typ is not JWT");
    }
    // crit names extensions the recipient must understand; we understand none.
    if (header.find("crit") != nullptr) return reject("crit header not supported");
    std::string kid_scratch;
    std::optional<std::string_view> kid;
    if (const JsonValue *kid_value = header.find("kid"); kid_value != nullptr) {
        if (!kid_value->is_string()) return reject("kid is not a string");
        kid = kid_value->decoded(kid_scratch);
    }

    // The keys this token may be verified with. A kid is never a path, a URL or a query: it is
    // only compared with the configured kids.
    std::vector<const Key *> candidates;
    bool kid_known = false;
    const auto consider = [&](const KeySet &keys) {
        for (const Key &key : keys) {
            if (kid && (!key.kid || *key.kid != *kid)) continue;
            kid_known = true;
            if (key.type != key_type_for(*alg)) continue;
            if (key.alg && *key.alg != *alg) continue;
            candidates.push_back(&key);
        }
    };
    consider(config.keys);
    if (fetched != nullptr) consider(*fetched);
    if (candidates.empty()) {
        result.unknown_kid = kid.has_value() && !kid_known;
        result.no_key = true;
        return reject(kid ? "no key of the token's kid for its alg" : "no key for the token's alg");
    }

    // Checked after alg, so that an unsigned "alg":"none" token is logged as what it is.
    if (signature_b64.empty()) return reject("empty signature");
    const std::optional<std::string> signature = base64url_decode(signature_b64);
    if (!signature) return reject("signature is not base64url");
    const std::string_view signing_input = token.substr(0, dot2);
    bool verified = false;
    for (const Key *key : candidates) {
        if (verify_signature(*alg, *key, signing_input, *signature)) {
            verified = true;
            break;
        }
    }
    if (!verified) return reject("signature mismatch");

    // Only a signed payload is parsed.
    const std::optional<std::string> payload_text = base64url_decode(payload_b64);
    JsonObject payload;
    if (!payload_text || scan_json_object(*payload_text, payload) != JsonScan::object) {
        return reject("payload is not a valid JSON object");
    }

    // Each time claim is judged as soon as it is read (the reasons keep this order).
    TokenTimes times;
    times.leeway_seconds = config.leeway_seconds > 0 ? config.leeway_seconds : 0;
    const TimeClaim exp = read_time(payload, "exp");
    if (exp.kind == TimeClaim::Kind::malformed) return reject("exp is not a number");
    times.has_exp = exp.kind == TimeClaim::Kind::number;
    times.exp = exp.value;
    if (const char *why = time_failure(times, now)) return reject(why);
    const TimeClaim nbf = read_time(payload, "nbf");
    if (nbf.kind == TimeClaim::Kind::malformed) return reject("nbf is not a number");
    times.has_nbf = nbf.kind == TimeClaim::Kind::number;
    times.nbf = nbf.value;
    if (const char *why = time_failure(times, now)) return reject(why);
    const TimeClaim iat = read_time(payload, "iat");
    if (iat.kind == TimeClaim::Kind::malformed) return reject("iat is not a number");
    times.has_iat = iat.kind == TimeClaim::Kind::number;
    times.iat = iat.value;
    if (const char *why = time_failure(times, now)) return reject(why);

    bool audience_required = false;
    for (const ClaimRequirement &req : config.required) {
        const JsonValue *required = find_set(payload, req.claim);
        if (required == nullptr) return reject("a required claim is missing");
        if (req.values.empty()) continue;
        const JsonValue &claim = *required;
        if (req.claim == "aud") {
            audience_required = true;
            if (!audience_accepted(claim, req.values)) return reject("aud names no accepted audience");
        } else if (!equals_one_of(claim, req.values)) {
            return reject("a required claim has another value");
        }
    }
    if (!audience_required) {
        if (const JsonValue *aud = payload.find("aud"); aud != nullptr && names_an_audience(*aud)) {
            return reject("aud present but no audience is configured");
        }
    }

    const JsonValue *claim = find_set(payload, config.device_claim);
    if (claim == nullptr) claim = find_set(payload, "sub");
    if (claim == nullptr) return reject("no device id claim and no sub");
    std::optional<std::string> device_id = read_identifier(*claim);
    if (!device_id) {
        return reject("device id is not 1..128 printable ASCII characters");
    }

    std::optional<std::string> api_key_id;
    if (const JsonValue *it = find_set(payload, "api_key_id"); it != nullptr) {
        api_key_id = read_identifier(*it);
        if (!api_key_id) return reject("api_key_id is malformed");
    }
    std::optional<std::uint64_t> version;
    if (const JsonValue *it = find_set(payload, "version"); it != nullptr) {
        if (it->is_number() && it->number == JsonNumber::unsigned_integer) {
            version = it->unsigned_value;
        } else if (it->is_number() && it->number == JsonNumber::integer && it->integer_value >= 0) {
            version = static_cast<std::uint64_t>(it->integer_value);
        } else {
            return reject("version is not a non-negative integer");
        }
    }

    result.failure = Failure{};
    result.reason.clear();
    result.device_id = std::move(*device_id);
    result.method = AuthMethod::jwt;
    result.api_key_id = api_key_id ? std::move(*api_key_id) : std::string();
    result.version = version;
    result.times = times;
}

}  // namespace

const char *time_failure(const TokenTimes &times, std::time_t now) noexcept {
    const double leeway = static_cast<double>(times.leeway_seconds);
    const double at = static_cast<double>(now);
    if (times.has_exp && at >= times.exp + leeway) return "token expired";
    if (times.has_nbf && at + leeway < times.nbf) return "token not yet valid";
    if (times.has_iat && at + leeway < times.iat) return "token issued in the future";
    return nullptr;
}

bool is_identifier(std::string_view s) noexcept {
    if (s.empty() || s.size() > kMaxIdentifierBytes) return false;
    for (char c : s) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

AuthResult verify_jwt(std::string_view token, const JwtConfig &config, std::time_t now,
                      const KeySet *fetched) noexcept {
    AuthResult result;
    result.token_presented = !token.empty();
    // The failure is set first and cleared only on success, so that every early return and
    // an exception alike fail closed. Only a JWT-shaped token gets the JWT text.
    const bool jwt_shaped = ascii::count_upto(token, '.', 3) == 2;
    try {
        result.failure.code = 401;
        result.failure.error.assign(jwt_shaped ? kBadJwt : kMissingAuth);
        if (!jwt_shaped) {
            result.reason = token.empty() ? "no token" : "not a JWT (needs exactly two dots)";
            return result;
        }
        verify(token, config, now, fetched, result);
        return result;
    } catch (...) {
        result.device_id.clear();
        result.api_key_id.clear();
        result.version.reset();
        result.method = AuthMethod::none;
        result.failure.code = 401;
        result.reason = "internal error";  // fits the small-string buffer: no allocation
        return result;
    }
}

std::string add_requirement(std::string_view arg, std::vector<ClaimRequirement> &into) {
    const std::size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    if (!valid_claim_name(name)) {
        return "a claim name is 1 to 64 printable characters without \"=\"";
    }
    const bool time_claim = name == "exp" || name == "nbf" || name == "iat";
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        if (time_claim) return "\"" + std::string(name) + "\" takes no value";
        if (value->empty() || value->size() > kMaxClaimValueBytes) {
            return "a claim value is 1 to 1024 bytes";
        }
        for (char c : *value) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                return "a claim value has no control characters";
            }
        }
    } else if (name == "aud") {
        return "\"aud\" needs a value: aud=AUDIENCE";
    }
    auto it = std::find_if(into.begin(), into.end(), [&](const ClaimRequirement &r) { return r.claim == name; });
    if (it == into.end()) {
        into.push_back(ClaimRequirement{std::string(name), {}});
        it = into.end() - 1;
    }
    // "iss" and "iss=a" together: the value decides; "iss=a iss=b": either.
    if (value && std::find(it->values.begin(), it->values.end(), *value) == it->values.end()) {
        it->values.emplace_back(*value);
    }
    return {};
}

std::vector<ClaimRequirement> merge_requirements(const std::vector<ClaimRequirement> &parent,
                                                 const std::vector<ClaimRequirement> &child) {
    std::vector<ClaimRequirement> out;
    for (const ClaimRequirement &req : parent) {
        const bool replaced =
            std::any_of(child.begin(), child.end(), [&](const ClaimRequirement &c) { return c.claim == req.claim; });
        if (!replaced) out.push_back(req);
    }
    out.insert(out.end(), child.begin(), child.end());
    return out;
}

}  // namespace wa_pair
