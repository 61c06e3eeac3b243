// Test keys and a JWS signer for the unit tests: key pairs made with OpenSSL at run time,
// their public halves as PEM (SPKI, PKCS#1) and JWK, and compact JWS of any algorithm.
// The verifier is proven against independent signers elsewhere (RFC vectors, PyJWT, Crypt::JWT
// in the Test::Nginx suites); this signer builds the near-valid tokens of the attack tables.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/base64url.hpp"
#include "jose/jwa.hpp"

namespace wa_pair::test {

struct TestKey {
    KeyType type = KeyType::oct;
    std::shared_ptr<EVP_PKEY> pkey;  // the private key (asymmetric)
    std::string secret;              // oct
};

inline std::shared_ptr<EVP_PKEY> keygen(const char *type, const char *param = nullptr, unsigned bits = 0) {
    EVP_PKEY *key = nullptr;
    if (std::string_view(type) == "RSA") {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    } else if (param != nullptr) {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
    } else {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    }
    if (key == nullptr) throw std::runtime_error(std::string("keygen failed: ") + type);
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// One key per type, made once per test run (RSA generation is the slow part).
inline const TestKey &test_key(KeyType type, int variant = 0) {
    static std::map<std::pair<int, int>, TestKey> keys;
    const auto id = std::make_pair(static_cast<int>(type), variant);
    auto it = keys.find(id);
    if (it != keys.end()) return it->second;
    TestKey key;
    key.type = type;
    switch (type) {
    case KeyType::oct:
        key.secret = "test hmac secret, variant " + std::to_string(variant) + " .....";
        break;
    case KeyType::rsa:
        key.pkey = keygen("RSA", nullptr, 2048);
        break;
    case KeyType::ec_p256:
        key.pkey = keygen("EC", "P-256");
        break;
    case KeyType::ec_p384:
        key.pkey = keygen("EC", "P-384");
        break;
    case KeyType::ec_p521:
        key.pkey = keygen("EC", "P-521");
        break;
    case KeyType::ed25519:
        key.pkey = keygen("ED25519");
        break;
    }
    return keys.emplace(id, std::move(key)).first->second;
}

inline std::string bio_text(BIO *bio) {
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(len));
    BIO_free(bio);
    return out;
}

// "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo)
inline std::string spki_pem(const TestKey &key) {
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key.pkey.get());
    return bio_text(bio);
}

// "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1 RSAPublicKey)
inline std::string pkcs1_pem(const TestKey &key) {
    unsigned char *der = nullptr;
    const int len = i2d_PublicKey(key.pkey.get(), &der);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio(bio, "RSA PUBLIC KEY", "", der, len);
    OPENSSL_free(der);
    return bio_text(bio);
}

inline std::string private_pem(const TestKey &key) {
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key.pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return bio_text(bio);
}

inline std::string bn_param(const TestKey &key, const char *name, int pad = 0) {
    BIGNUM *bn = nullptr;
    EVP_PKEY_get_bn_param(key.pkey.get(), name, &bn);
    std::string out(static_cast<size_t>(pad > 0 ? pad : BN_num_bytes(bn)), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
}

// The public JWK members of `key`, without braces: "\"kty\":\"EC\",\"crv\":...".
inline std::string jwk_members(const TestKey &key) {
    const auto b64 = [](const std::string &s) { return base64url_encode(s); };
    switch (key.type) {
    case KeyType::oct:
        return R"("kty":"oct","k":")" + b64(key.secret) + "\"";
    case KeyType::rsa:
        return R"("kty":"RSA","n":")" + b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
               b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E)) + "\"";
    case KeyType::ec_p256:
    case KeyType::ec_p384:
    case KeyType::ec_p521: {
        const int size = key.type == KeyType::ec_p256 ? 32 : key.type == KeyType::ec_p384 ? 48 : 66;
        const char *crv = key.type == KeyType::ec_p256 ? "P-256" : key.type == KeyType::ec_p384 ? "P-384" : "P-521";
        return R"("kty":"EC","crv":")" + std::string(crv) + R"(","x":")" +
               b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, size)) + R"(","y":")" +
               b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, size)) + "\"";
    }
    case KeyType::ed25519: {
        unsigned char raw[32];
        size_t len = sizeof(raw);
        EVP_PKEY_get_raw_public_key(key.pkey.get(), raw, &len);
        return R"("kty":"OKP","crv":"Ed25519","x":")" + b64(std::string(reinterpret_cast<char *>(raw), len)) + "\"";
    }
    }
    return {};
}

inline std::string jwk(const TestKey &key, const std::string &extra = "") {
    return "{" + jwk_members(key) + (extra.empty() ? "" : "," + extra) + "}";
}

inline const EVP_MD *test_digest(Alg alg) {
    const std::string_view name = alg_name(alg);
    if (name == "EdDSA") return nullptr;
    if (name.substr(2) == "256") return EVP_sha256();
    if (name.substr(2) == "384") return EVP_sha384();
    return EVP_sha512();
}

// The raw signature of `input` with `alg`; ES* signatures in the JWS form (R||S), unless
// `der` asks for OpenSSL's DER.
inline std::string sign(Alg alg, const TestKey &key, std::string_view input, bool der = false) {
    const EVP_MD *md = test_digest(alg);
    const auto *data = reinterpret_cast<const unsigned char *>(input.data());
    if (key.type == KeyType::oct) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(md, key.secret.data(), static_cast<int>(key.secret.size()), data, input.size(), mac, &len);
        return std::string(reinterpret_cast<char *>(mac), len);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = nullptr;
    EVP_DigestSignInit(ctx, &pctx, md, nullptr, key.pkey.get());
    const std::string_view name = alg_name(alg);
    if (name[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md);
    }
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, data, input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len, data, input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    if (name[0] != 'E' || name == "EdDSA" || der) return sig;
    const int half = name == "ES256" ? 32 : name == "ES384" ? 48 : 66;
    const auto *p = reinterpret_cast<const unsigned char *>(sig.data());
    ECDSA_SIG *ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(static_cast<size_t>(2 * half), '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char *>(raw.data()), half);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char *>(raw.data()) + half, half);
    ECDSA_SIG_free(ecdsa);
    return raw;
}

// A compact JWS over the exact header and payload JSON given.
inline std::string mint(Alg alg, const TestKey &key, std::string_view header, std::string_view payload) {
    const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    return input + "." + base64url_encode(sign(alg, key, input));
}

inline std::string header_for(Alg alg, const std::string &extra = "") {
    return R"({"alg":")" + std::string(alg_name(alg)) + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace wa_pair::test
