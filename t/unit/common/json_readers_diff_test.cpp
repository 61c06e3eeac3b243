// The three readers that moved from nlohmann's DOM to the scanner (the JWT payload's claims,
// the login body, the native backend answer) against references that read the same rules
// with nlohmann through parse_json, as the readers did before: for realistic documents and
// their random mutations, every answer (success, code, text, reason, values) is the same.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/ascii.hpp"
#include "common/base64url.hpp"
#include "jose/jwt.hpp"
#include "edge/login_body.hpp"
#include "edge/phone.hpp"
#include "backend/protocol.hpp"
#include "json_oracle.hpp"

#include "hs256.hpp"

namespace wa_pair {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

constexpr std::time_t kNow = 1700000000;
const std::string kSecret = "readers diff secret, 32 bytes ok";

std::string mint_hs256(std::string_view header, std::string_view payload) {
    return testing_hs256::mint(kSecret, header, payload);
}

// ---- JWT payload: the claim rules of jwt.cpp, read from nlohmann's DOM -----------------------

struct ClaimsAnswer {
    std::string reason;  // "" on success
    std::string device_id;
    std::string api_key_id;
    std::optional<std::uint64_t> version;
};

ClaimsAnswer refused(const char *reason) {
    ClaimsAnswer a;
    a.reason = reason;
    return a;
}

bool ref_read_time(const json &payload, const char *name, bool &present, double &value) {
    present = false;
    const auto it = payload.find(name);
    if (it == payload.end()) return true;
    if (!it->is_number()) return false;
    value = it->get<double>();
    present = true;
    return std::isfinite(value);
}

bool ref_equals_one_of(const json &value, const std::vector<std::string> &accepted) {
    return value.is_string() && std::find(accepted.begin(), accepted.end(), value.get<std::string>()) != accepted.end();
}

bool ref_identifier(const json &claim, std::string &out) {
    if (claim.is_string()) {
        out = claim.get<std::string>();
    } else if (claim.is_number_integer()) {
        out = claim.dump();
    } else {
        return false;
    }
    return is_identifier(out);
}

ClaimsAnswer reference_claims(std::string_view payload_text, const JwtConfig &config) {
    ClaimsAnswer a;
    const json payload = parse_json(payload_text);
    if (!payload.is_object()) return refused("payload is not a valid JSON object");
    const double leeway = static_cast<double>(config.leeway_seconds > 0 ? config.leeway_seconds : 0);
    const double at = static_cast<double>(kNow);
    bool has = false;
    double value = 0;
    if (!ref_read_time(payload, "exp", has, value)) return refused("exp is not a number");
    if (has && at >= value + leeway) return refused("token expired");
    if (!ref_read_time(payload, "nbf", has, value)) return refused("nbf is not a number");
    if (has && at + leeway < value) return refused("token not yet valid");
    if (!ref_read_time(payload, "iat", has, value)) return refused("iat is not a number");
    if (has && at + leeway < value) return refused("token issued in the future");
    bool audience_required = false;
    for (const ClaimRequirement &req : config.required) {
        const auto it = payload.find(req.claim);
        if (it == payload.end() || it->is_null()) return refused("a required claim is missing");
        if (req.values.empty()) continue;
        if (req.claim == "aud") {
            audience_required = true;
            bool ok = false;
            if (it->is_string()) {
                ok = ref_equals_one_of(*it, req.values);
            } else if (it->is_array()) {
                bool malformed = false;
                for (const json &item : *it) {
                    if (!item.is_string()) malformed = true;
                    ok = ok || ref_equals_one_of(item, req.values);
                }
                ok = ok && !malformed;
            }
            if (!ok) return refused("aud names no accepted audience");
        } else if (!ref_equals_one_of(*it, req.values)) {
            return refused("a required claim has another value");
        }
    }
    if (!audience_required) {
        const auto aud = payload.find("aud");
        if (aud != payload.end() && !aud->is_null() && !(aud->is_string() && aud->get<std::string>().empty()) &&
            !(aud->is_array() && aud->empty())) {
            return refused("aud present but no audience is configured");
        }
    }
    const json *claim = nullptr;
    if (const auto it = payload.find(config.device_claim); it != payload.end() && !it->is_null()) {
        claim = &*it;
    } else if (const auto sub = payload.find("sub"); sub != payload.end() && !sub->is_null()) {
        claim = &*sub;
    }
    if (claim == nullptr) return refused("no device id claim and no sub");
    if (!ref_identifier(*claim, a.device_id)) return refused("device id is not 1..128 printable ASCII characters");
    if (const auto it = payload.find("api_key_id"); it != payload.end() && !it->is_null()) {
        if (!ref_identifier(*it, a.api_key_id)) return refused("api_key_id is malformed");
    }
    if (const auto it = payload.find("version"); it != payload.end() && !it->is_null()) {
        if (it->is_number_unsigned()) {
            a.version = it->get<std::uint64_t>();
        } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
            a.version = static_cast<std::uint64_t>(it->get<std::int64_t>());
        } else {
            return refused("version is not a non-negative integer");
        }
    }
    return a;
}

std::vector<JwtConfig> claim_configs() {
    std::vector<JwtConfig> configs(3);
    for (JwtConfig &c : configs) c.keys.push_back(hmac_key(kSecret));
    configs[1].device_claim = "uid";
    configs[1].leeway_seconds = 60;
    for (const char *arg : {"iss=https://id.example", "aud=app", "aud=api", "sub"}) {
        EXPECT_EQ(add_requirement(arg, configs[1].required), "");
    }
    EXPECT_EQ(add_requirement("version", configs[2].required), "");
    EXPECT_EQ(add_requirement("role=admin", configs[2].required), "");
    return configs;
}

const std::vector<std::string> kPayloads = {
    R"({"device_id":"dev-42","sub":"user-1","api_key_id":7,"version":3,"iat":1700000000})",
    R"({"device_id":"dev-42","api_key_id":"key-1","version":0,"exp":1700000100,"nbf":1699999990})",
    R"({"device_id":null,"sub":12345678901234567890,"version":-0,"exp":1.7000001e9})",
    R"({"uid":"u-1","sub":"s","iss":"https://id.example","aud":["web","api"],"exp":1700000030.5})",
    R"({"uid":-0,"sub":"s","iss":"https:\/\/id.example","aud":"app","iat":1700000050})",
    R"({"sub":"\u0064ev","aud":[],"role":"admin","version":18446744073709551615})",
    R"({"sub":"dev","aud":"","role":"\u0061dmin","version":1,"api_key_id":-9223372036854775808})",
    R"({"device_id":"dev","aud":[1,"app"],"role":"admin","version":2,"exp":null,"nbf":"x"})",
    R"({"device_id":"dev","exp":1e999})",
    R"({"device_id":"a b","version":1.0,"api_key_id":1.5})",
    R"({"device_id":"d","aud":null})",
    R"({"device_id":"d","aud":{}})",
    R"({"device_id":"d","aud":0})",
    R"({"device_id":"d","version":null,"api_key_id":null,"iat":-1e300})",
    R"({"device_id":"d","version":-1})",
    R"({"uid":"u","sub":"s","iss":"https://id.example","aud":["app",null]})",
    R"({"uid":"u","sub":null,"iss":"https://id.example","aud":"api"})",
    R"({"uid":"u","sub":"s","iss":"https://id.example","aud":"web"})",
};

TEST(JsonReadersDiff, JwtClaims) {
    const std::vector<JwtConfig> configs = claim_configs();
    std::mt19937 rng(7);
    int disagreements = 0;
    for (int round = 0; round < 12000 && disagreements < 10; ++round) {
        // Each document once as written, then mutated.
        const bool as_written = round < static_cast<int>(kPayloads.size());
        std::string payload = kPayloads[as_written ? static_cast<std::size_t>(round) : rng() % kPayloads.size()];
        if (!as_written) oracle::mutate(payload, rng);
        const std::string token = mint_hs256(R"({"alg":"HS256","typ":"JWT"})", payload);
        for (const JwtConfig &config : configs) {
            const ClaimsAnswer want = reference_claims(payload, config);
            const AuthResult got = verify_jwt(token, config, kNow);
            const bool same = want.reason == got.reason && want.device_id == got.device_id &&
                              want.api_key_id == got.api_key_id && want.version == got.version &&
                              (want.reason.empty() != static_cast<bool>(got.failure));
            if (!same) {
                ++disagreements;
                ADD_FAILURE() << "reference: " << want.reason << " [" << want.device_id << "], "
                              << "verify_jwt: " << got.reason << " [" << got.device_id
                              << "]\n  payload: " << testing::PrintToString(payload);
            }
        }
    }
}

// The header's rules (alg, typ, crit, kid) on mutated headers: accepted or refused alike.
TEST(JsonReadersDiff, JwtHeader) {
    JwtConfig config;
    config.keys.push_back(hmac_key(kSecret));
    config.keys.back().kid = "key-1";
    const std::vector<std::string> headers = {
        R"({"alg":"HS256","typ":"JWT","kid":"key-1"})",     R"({"alg":"HS256","typ":"application/jwt"})",
        R"({"alg":"H\u005356","kid":"key\u002d1"})",        R"({"alg":"HS256","crit":null})",
        R"({"alg":"HS256","typ":"jwt","cty":{"a":[1,2]}})",
    };
    std::mt19937 rng(11);
    int disagreements = 0;
    for (int round = 0; round < 12000 && disagreements < 10; ++round) {
        // Each document once as written, then mutated.
        const bool as_written = round < static_cast<int>(headers.size());
        std::string header = headers[as_written ? static_cast<std::size_t>(round) : rng() % headers.size()];
        if (!as_written) oracle::mutate(header, rng);
        const json h = parse_json(header);
        bool want = h.is_object() && h.contains("alg") && h["alg"] == "HS256" && !h.contains("crit");
        if (want && h.contains("typ")) {
            const json &typ = h["typ"];
            want = typ.is_string() && (ascii::iequals(typ.get<std::string>(), "JWT") ||
                                       ascii::iequals(typ.get<std::string>(), "application/jwt"));
        }
        if (want && h.contains("kid")) want = h["kid"] == "key-1";
        const AuthResult got = verify_jwt(mint_hs256(header, R"({"device_id":"d"})"), config, kNow);
        if (want == static_cast<bool>(got.failure)) {
            ++disagreements;
            ADD_FAILURE() << "reference " << (want ? "accepts" : "refuses") << ", verify_jwt: " << got.reason
                          << "\n  header: " << testing::PrintToString(header);
        }
    }
}

// ---- the login body: the JSON rules of login_body.cpp, read from nlohmann's DOM --------------

LoginRequest reference_body(std::string_view body) {
    LoginRequest r;
    const auto fail = [&](const char *text) {
        r.failure = Failure{400, text};
        return r;
    };
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return fail("Phone number is required");
    const json value = parse_json(body);
    if (value.is_discarded()) return fail("Request body is not valid JSON");
    if (!value.is_object()) return fail("Request body must be a JSON object");
    const auto phone = value.find("phone");
    if (phone == value.end() || phone->is_null()) return fail("Phone number is required");
    if (!phone->is_string()) return fail("Phone number must be a string");
    PhoneResult normalized = normalize_phone(phone->get<std::string>());
    if (normalized.failure) {
        r.failure = normalized.failure;
        return r;
    }
    const auto refresh = value.find("refresh");
    if (refresh != value.end() && !refresh->is_boolean()) return fail("Field refresh must be a boolean");
    r.phone = normalized.digits;
    r.refresh = refresh != value.end() && refresh->get<bool>();
    return r;
}

TEST(JsonReadersDiff, LoginBody) {
    const std::vector<std::string> bodies = {
        R"({"phone":"6281234567890"})",
        R"({"phone":"+62 812-3456-7890","refresh":true})",
        R"({"phone":"0812","refresh":false})",
        R"({"phone":null,"refresh":null})",
        R"({"phone":6281234567890})",
        R"({"ph\u006fne":"\u0036281234567890","x":[1,{"y":2}]})",
        R"({"phone":"6281234567890","refresh":"yes"})",
        R"({"phone":"6281234567890","refresh":null})",
        R"({"refresh":true})",
        R"([{"phone":"6281234567890"}])",
        "{\"phone\":\"62812\u0000\"}",
        "\xEF\xBB\xBF{\"phone\":\"6281234567890\"}\0x"s,
    };
    std::mt19937 rng(13);
    int disagreements = 0;
    for (int round = 0; round < 20000 && disagreements < 10; ++round) {
        // Each document once as written, then mutated.
        const bool as_written = round < static_cast<int>(bodies.size());
        std::string body = bodies[as_written ? static_cast<std::size_t>(round) : rng() % bodies.size()];
        if (!as_written) oracle::mutate(body, rng);
        const LoginRequest want = reference_body(body);
        const LoginRequest got = parse_login_body(BodyType::json, body);
        if (want.failure.code != got.failure.code || want.failure.error != got.failure.error ||
            want.phone != got.phone || want.refresh != got.refresh) {
            ++disagreements;
            ADD_FAILURE() << "reference: " << want.failure.error << " " << want.phone
                          << ", parse_login_body: " << got.failure.error << " " << got.phone
                          << "\n  body: " << testing::PrintToString(body);
        }
    }
}

// ---- the native backend answer: protocol_native.cpp's rules, read from nlohmann's DOM --------

PairCode reference_native(long status, std::string_view body) {
    PairCode r;
    if (status == 200) {
        const json answer = parse_json(body);
        const auto invalid = [&](const char *reason) {
            PairCode p;
            p.failure = Failure{502, "Invalid answer from the pairing backend"};
            p.outcome = Outcome::bad_backend_answer;
            p.reason = reason;
            return p;
        };
        if (!answer.is_object()) return invalid("answered 200 without a JSON object");
        const auto code = answer.find("pair_code");
        if (code == answer.end() || !code->is_string()) return invalid("answered 200 without a valid pair_code");
        std::optional<std::string> formatted = format_pair_code(code->get<std::string>());
        if (!formatted) return invalid("answered 200 without a valid pair_code");
        r.code = std::move(*formatted);
        r.timeout = 120;
        r.outcome = Outcome::ok;
        if (const auto t = answer.find("timeout"); t != answer.end() && !t->is_null()) {
            if (!t->is_number_unsigned() || t->get<std::uint64_t>() < 1 || t->get<std::uint64_t>() > 86400) {
                return invalid("answered 200 with a bad timeout");
            }
            r.timeout = static_cast<long>(t->get<std::uint64_t>());
        }
        return r;
    }
    const json answer = parse_json(body);
    r.outcome = Outcome::backend_rejected;
    r.reason = "refused the request";
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
        const std::string error = answer["error"].get<std::string>();
        bool printable = !error.empty() && error.size() <= 200;
        for (char c : error) printable = printable && c >= 0x20 && c <= 0x7e;
        if (printable) {
            r.failure = Failure{400, error};
            return r;
        }
    }
    r.failure = Failure{400, "Pairing request was rejected by the backend"};
    return r;
}

TEST(JsonReadersDiff, NativeAnswer) {
    const std::vector<std::string> bodies = {
        R"({"pair_code":"ABCD-1234","timeout":120})",
        R"({"pair_code":"ABCD1234"})",
        R"({"pair_code":"ABCD1234","timeout":null})",
        R"({"pair_code":"ABCD1234","timeout":120.0})",
        R"({"pair_code":"ABCD1234","timeout":-0,"x":{}})",
        R"({"pair_code":"\u0041BCD1234","timeout":86400})",
        R"({"error":"device not found"})",
        R"({"error":"caf\u00e9"})",
        R"({"error":"a\/b","x":[1]})",
        R"({"pair_code":"ABCD1234","timeout":0})",
        R"({"pair_code":"ABCD1234","timeout":86401})",
        R"({"pair_code":"abcd1234"})",
        R"({"pair_code":null})",
        R"({"error":null})",
        R"({"error":"a\tb"})",
        R"(["error"])",
        R"({"error":""})",
    };
    std::mt19937 rng(17);
    int disagreements = 0;
    for (int round = 0; round < 20000 && disagreements < 10; ++round) {
        // Each document once as written, then mutated.
        const bool as_written = round < static_cast<int>(bodies.size());
        std::string body = bodies[as_written ? static_cast<std::size_t>(round) : rng() % bodies.size()];
        if (!as_written) oracle::mutate(body, rng);
        for (const long status : {200L, 400L}) {
            const PairCode want = reference_native(status, body);
            const PairCode got = map_backend_answer(status, body, "", 120);
            if (want.failure.code != got.failure.code || want.failure.error != got.failure.error ||
                want.code != got.code || want.timeout != got.timeout || want.outcome != got.outcome ||
                want.reason != got.reason) {
                ++disagreements;
                ADD_FAILURE() << status << " reference: " << want.failure.error << " " << want.reason
                              << ", map_backend_answer: " << got.failure.error << " " << got.reason
                              << "\n  body: " << testing::PrintToString(body);
            }
        }
    }
}

}  // namespace
}  // namespace wa_pair
