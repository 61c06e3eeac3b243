// Tokens, PEM files and JWK Sets made by PyJWT and python3-cryptography (t/unit/pyjwt_tokens.py),
// an implementation independent of the module: every algorithm verifies, and what PyJWT can be
// made to mint wrongly is refused. The file is made by the Makefile; without it this test
// fails: a skipped interoperability check would look like a passing one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "auth/auth.hpp"
#include "common/base64url.hpp"

namespace wa_pair {
namespace {

const std::string kBadJwtText(kBadJwt);

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, sep)) out.push_back(part);
    return out;
}

std::string from_hex(const std::string &hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    }
    return out;
}

// "hs:<hex>", "pem:<b64url>", "jwks:<b64url>", comma-separated.
KeySet keys_from(const std::string &specs) {
    KeySet keys;
    for (const std::string &spec : split(specs, ',')) {
        const std::size_t colon = spec.find(':');
        const std::string kind = spec.substr(0, colon);
        const std::string data = spec.substr(colon + 1);
        if (kind == "hs") {
            keys.push_back(hmac_key(from_hex(data)));
            continue;
        }
        const std::optional<std::string> decoded = base64url_decode(data);
        EXPECT_TRUE(decoded) << spec;
        const std::string text = decoded.value_or("");
        KeyFile file = parse_key_file(text);
        EXPECT_EQ(file.error, "") << kind << " file:\n" << text;
        EXPECT_TRUE(file.warnings.empty());
        for (Key &key : file.keys) keys.push_back(std::move(key));
    }
    return keys;
}

TEST(PyJwt, TokensVerifyAsPyJwtMintedThem) {
    const char *env = std::getenv("WA_PAIR_PYJWT_TOKENS");
    const std::string path = env != nullptr && *env != '\0' ? env : "build/unit/pyjwt_tokens.txt";
    std::ifstream file(path);
    ASSERT_TRUE(file.is_open()) << "cannot read " << path << ": run /usr/bin/python3 t/unit/pyjwt_tokens.py > " << path
                                << " and set WA_PAIR_PYJWT_TOKENS";

    std::string line;
    int rows = 0;
    int accepted = 0;
    std::set<std::string> algs_accepted;
    bool seen_origin = false, seen_confusion = false;
    while (std::getline(file, line)) {
        if (line.empty() || line[0] == '#') continue;
        const std::vector<std::string> f = split(line, '\t');
        ASSERT_EQ(f.size(), 8u) << "malformed line: " << line.substr(0, 80);
        const std::string &name = f[0];
        SCOPED_TRACE(name);
        AuthConfig config;
        config.jwt.keys = keys_from(f[1]);
        if (f[2] != "-") {
            for (const std::string &alg : split(f[2], ',')) {
                const auto parsed = alg_from_name(alg);
                ASSERT_TRUE(parsed) << alg;
                config.jwt.algorithms.add(*parsed);
            }
        }
        config.jwt.device_claim = f[3];
        config.jwt.leeway_seconds = std::stol(f[4]);
        const std::time_t now = static_cast<std::time_t>(std::stoll(f[5]));
        const std::string &expect = f[6];
        const std::string &token = f[7];

        const AuthResult direct = verify_jwt(token, config.jwt, now);
        const AuthResult via_header = authenticate("Bearer " + token, config, now);
        if (expect.rfind("ok:", 0) == 0) {
            EXPECT_FALSE(direct.failure) << direct.reason;
            EXPECT_EQ(direct.device_id, expect.substr(3));
            EXPECT_EQ(via_header.device_id, expect.substr(3));
            EXPECT_EQ(via_header.method, AuthMethod::jwt);
            const std::optional<std::string> decoded = base64url_decode(token.substr(0, token.find('.')));
            ASSERT_TRUE(decoded);
            const std::string &header = *decoded;
            std::size_t at = header.find("\"alg\":");
            ASSERT_NE(at, std::string::npos);
            at = header.find('"', at + 6) + 1;
            algs_accepted.insert(header.substr(at, header.find('"', at) - at));
            ++accepted;
        } else {
            ASSERT_EQ(expect, "bad_jwt");
            EXPECT_EQ(direct.failure.code, 401);
            EXPECT_EQ(direct.failure.error, kBadJwtText) << direct.reason;
            EXPECT_EQ(via_header.failure.error, kBadJwtText);
            EXPECT_TRUE(via_header.token_presented);
        }
        seen_origin = seen_origin || name == "origin_shape";
        seen_confusion = seen_confusion || name == "hs256_with_rsa_pem_as_secret";
        ++rows;
    }
    EXPECT_GE(rows, 150) << path << " is incomplete";
    EXPECT_GE(accepted, 70);
    EXPECT_TRUE(seen_origin && seen_confusion) << path << " lacks required tokens";
    const std::set<std::string> every = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                         "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    EXPECT_EQ(algs_accepted, every) << "a PyJWT token of every algorithm must verify";
}

}  // namespace
}  // namespace wa_pair
