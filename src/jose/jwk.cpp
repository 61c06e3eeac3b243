// PEM and JWK(S) -> KeySet. Strict where a mistake would weaken verification (private keys,
// short RSA keys, points off the curve, an "alg" that does not fit), lenient where RFC 7517
// asks for it (JWKs this module cannot use are skipped).
#include "jose/jwk.hpp"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base64url.hpp"
#include "common/json_parse.hpp"
#include "common/ossl.hpp"

namespace wa_pair {

namespace {

using json = nlohmann::json;

constexpr int kMinRsaBits = 2048;  // RFC 7518 section 3.3
constexpr int kMaxRsaBits = 8192;  // bounds the cost of one verification
constexpr std::size_t kMaxJwks = 64;

// Why a key file is refused, for the operator; it converts to any Checked<T>.
struct Refusal {
    std::string message;
};

Refusal refuse(std::string message) {
    return Refusal{std::move(message)};
}

// A value, or (error not empty) why there is none (common/failure.hpp).
template <typename T>
struct Checked {
    Checked(T v) : value(std::move(v)) {}
    Checked(Refusal r) : error(std::move(r.message)) {}
    T value{};
    std::string error;
};

std::shared_ptr<EVP_PKEY> share(ossl::Pkey pkey) {
    return std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
}

// "key 2" or "key 2 (kid \"a\")": the kid only when it prints safely.
std::string label(std::size_t index, const std::optional<std::string> &kid) {
    std::string out = "key " + std::to_string(index);
    if (!kid) return out;
    bool printable = kid->size() <= 64;
    for (char c : *kid) printable = printable && c >= 0x20 && c <= 0x7e && c != '"';
    if (printable) out += " (kid \"" + *kid + "\")";
    return out;
}

// The key type of a public key, or an error naming what is wrong with it.
Checked<KeyType> classify(EVP_PKEY *pkey) {
    const int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA) {
        const int bits = EVP_PKEY_get_bits(pkey);
        if (bits < kMinRsaBits) {
            return refuse("RSA key of " + std::to_string(bits) + " bits: at least " + std::to_string(kMinRsaBits) +
                          " are required");
        }
        if (bits > kMaxRsaBits) {
            return refuse("RSA key of " + std::to_string(bits) + " bits: at most " + std::to_string(kMaxRsaBits) +
                          " are supported");
        }
        return KeyType::rsa;
    }
    if (id == EVP_PKEY_EC) {
        char group[80] = {0};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) {
            return refuse("EC key without a named curve");
        }
        const std::string_view name(group, len);
        KeyType type;
        if (name == "prime256v1") {
            type = KeyType::ec_p256;
        } else if (name == "secp384r1") {
            type = KeyType::ec_p384;
        } else if (name == "secp521r1") {
            type = KeyType::ec_p521;
        } else {
            return refuse("EC key on curve " + std::string(name) + ": only P-256, P-384 and P-521 are supported");
        }
        ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
        if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) return refuse("EC public key is not valid");
        return type;
    }
    if (id == EVP_PKEY_ED25519) return KeyType::ed25519;
    if (id == EVP_PKEY_ED448) return refuse("Ed448 key: EdDSA is supported with Ed25519 only");
    if (id == EVP_PKEY_RSA_PSS) return refuse("RSA-PSS restricted key: give a plain RSA key");
    return refuse("unsupported key type (RSA, EC, Ed25519 only)");
}

// ---------------------------------------------------------------- PEM

Checked<Key> pem_key(const std::string &name, const unsigned char *der, long len) {
    const unsigned char *p = der;
    ossl::Pkey pkey;
    if (name == "PUBLIC KEY") {
        pkey.reset(d2i_PUBKEY(nullptr, &p, len));
    } else if (name == "RSA PUBLIC KEY") {
        pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
        if (!pkey) {
            // Some tools (CryptX/libtomcrypt) write an RSA SubjectPublicKeyInfo under this
            // label; OpenSSL reads it too.
            ERR_clear_error();
            p = der;
            pkey.reset(d2i_PUBKEY(nullptr, &p, len));
            if (pkey && EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) pkey.reset();
        }
    } else if (name.find("PRIVATE KEY") != std::string::npos) {
        return refuse("holds a private key (PEM \"" + name + "\"): give the public key only (openssl pkey -pubout)");
    } else if (name == "CERTIFICATE" || name == "X509 CERTIFICATE" || name == "TRUSTED CERTIFICATE") {
        return refuse("holds a certificate: give its public key (openssl x509 -pubkey -noout)");
    } else {
        return refuse("PEM block \"" + name + "\" is not a public key");
    }
    if (!pkey) return refuse("PEM \"" + name + "\" block is not a valid public key");
    if (p != der + len) return refuse("PEM \"" + name + "\" block has trailing data");
    Checked<KeyType> type = classify(pkey.get());
    if (!type.error.empty()) return refuse(std::move(type.error));
    Key key;
    key.type = type.value;
    key.pkey = share(std::move(pkey));
    return key;
}

Checked<KeySet> parse_pem(std::string_view text) {
    ossl::Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) throw std::bad_alloc();
    KeySet keys;
    for (;;) {
        char *name = nullptr;
        char *header = nullptr;
        unsigned char *data = nullptr;
        long len = 0;
        ERR_clear_error();
        if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
            const unsigned long err = ERR_peek_last_error();
            ERR_clear_error();
            // The normal end: no further "-----BEGIN".
            if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
            return refuse("malformed PEM block");
        }
        const ossl::OpensslString name_guard(name);
        const ossl::OpensslString header_guard(header);
        const ossl::OpensslBytes data_guard(data);
        if (header != nullptr && header[0] != '\0') return refuse("PEM block with headers (encrypted?)");
        Checked<Key> key = pem_key(name, data, len);
        if (!key.error.empty()) return refuse(std::move(key.error));
        keys.push_back(std::move(key.value));
        if (keys.size() > kMaxJwks) return refuse("more than 64 keys");
    }
    if (keys.empty()) return refuse("no PEM block found");
    return keys;
}

// ---------------------------------------------------------------- JWK

// A base64url member that must be present; `size` 0: any non-empty length.
Checked<std::string> member_bytes(const json &jwk, const char *name, const std::string &where, std::size_t size = 0) {
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
        return refuse(where + ": \"" + name + "\" is missing or not a string");
    }
    std::optional<std::string> bytes = base64url_decode(it->get_ref<const std::string &>());
    if (!bytes) {
        return refuse(where + ": \"" + name + "\" is not base64url");
    }
    if (bytes->empty()) return refuse(where + ": \"" + name + "\" is empty");
    if (size != 0 && bytes->size() != size) {
        return refuse(where + ": \"" + name + "\" must be " + std::to_string(size) + " bytes, not " +
                      std::to_string(bytes->size()));
    }
    return std::move(*bytes);
}

// Empty, or why the JWK is refused.
std::string refuse_private_members(const json &jwk, const std::string &where,
                                   std::initializer_list<const char *> names) {
    for (const char *name : names) {
        if (jwk.contains(name)) {
            return where + ": holds private key material (\"" + name + "\"): publish the public key only";
        }
    }
    return {};
}

Checked<ossl::Pkey> from_params(const char *type, OSSL_PARAM_BLD *bld, const std::string &where) {
    ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();
        return refuse(where + ": not a valid " + type + " public key");
    }
    return ossl::Pkey(raw);
}

Checked<ossl::Pkey> rsa_from_jwk(const json &jwk, const std::string &where) {
    std::string refused = refuse_private_members(jwk, where, {"d", "p", "q", "dp", "dq", "qi", "oth"});
    if (!refused.empty()) return refuse(std::move(refused));
    Checked<std::string> n_member = member_bytes(jwk, "n", where);
    if (!n_member.error.empty()) return refuse(std::move(n_member.error));
    Checked<std::string> e_member = member_bytes(jwk, "e", where);
    if (!e_member.error.empty()) return refuse(std::move(e_member.error));
    const std::string &n = n_member.value;
    const std::string &e = e_member.value;
    if (e.size() > 8) return refuse(where + ": \"e\" is too large");
    ossl::Bignum bn_n(
        BN_bin2bn(reinterpret_cast<const unsigned char *>(n.data()), static_cast<int>(n.size()), nullptr));
    ossl::Bignum bn_e(
        BN_bin2bn(reinterpret_cast<const unsigned char *>(e.data()), static_cast<int>(e.size()), nullptr));
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
        throw std::bad_alloc();
    }
    return from_params("RSA", bld.get(), where);
}

Checked<ossl::Pkey> ec_from_jwk(const json &jwk, const std::string &where, const char *group, std::size_t field_bytes) {
    std::string refused = refuse_private_members(jwk, where, {"d"});
    if (!refused.empty()) return refuse(std::move(refused));
    // RFC 7518 section 6.2.1.2 wants the full length, but some libraries (PyJWT before 2.8)
    // drop leading zero bytes: a shorter coordinate is the same number, padded back here.
    Checked<std::string> x_member = member_bytes(jwk, "x", where);
    if (!x_member.error.empty()) return refuse(std::move(x_member.error));
    Checked<std::string> y_member = member_bytes(jwk, "y", where);
    if (!y_member.error.empty()) return refuse(std::move(y_member.error));
    std::string &x = x_member.value;
    std::string &y = y_member.value;
    for (std::string *c : {&x, &y}) {
        if (c->size() > field_bytes) {
            return refuse(where + ": \"" + (c == &x ? "x" : "y") + "\" is longer than " + std::to_string(field_bytes) +
                          " bytes");
        }
        c->insert(0, field_bytes - c->size(), '\0');
    }
    const std::string point = "\x04" + x + y;  // uncompressed (SEC 1 section 2.3.3)
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size())) {
        throw std::bad_alloc();
    }
    return from_params("EC", bld.get(), where);
}

Checked<ossl::Pkey> ed25519_from_jwk(const json &jwk, const std::string &where) {
    std::string refused = refuse_private_members(jwk, where, {"d"});
    if (!refused.empty()) return refuse(std::move(refused));
    Checked<std::string> x_member = member_bytes(jwk, "x", where, 32);
    if (!x_member.error.empty()) return refuse(std::move(x_member.error));
    const std::string &x = x_member.value;
    ossl::Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char *>(x.data()), x.size()));
    if (!pkey) {
        ERR_clear_error();
        return refuse(where + ": not a valid Ed25519 public key");
    }
    return pkey;
}

Checked<std::optional<std::string>> optional_string(const json &jwk, const char *name, const std::string &where) {
    const auto it = jwk.find(name);
    if (it == jwk.end()) return std::optional<std::string>();
    if (!it->is_string()) return refuse(where + ": \"" + name + "\" is not a string");
    return std::optional<std::string>(it->get<std::string>());
}

// One JWK; no key (and a warning) when it is to be skipped.
Checked<std::optional<Key>> jwk_key(const json &jwk, std::size_t index, std::vector<std::string> &warnings) {
    const std::optional<Key> skipped;
    if (!jwk.is_object()) return refuse("key " + std::to_string(index) + " is not a JSON object");
    Key key;
    const auto kid_it = jwk.find("kid");
    if (kid_it != jwk.end() && !kid_it->is_string()) {
        return refuse(label(index, std::nullopt) + ": \"kid\" is not a string");
    }
    if (kid_it != jwk.end()) key.kid = kid_it->get<std::string>();
    const std::string where = label(index, key.kid);

    auto kty = optional_string(jwk, "kty", where);
    if (!kty.error.empty()) return refuse(std::move(kty.error));
    if (!kty.value) return refuse(where + ": \"kty\" is missing");
    auto use = optional_string(jwk, "use", where);
    if (!use.error.empty()) return refuse(std::move(use.error));
    if (use.value && *use.value != "sig") {
        warnings.push_back(where + " skipped: \"use\" is not \"sig\"");
        return skipped;
    }
    if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
        if (!ops->is_array()) return refuse(where + ": \"key_ops\" is not an array");
        bool verify = false;
        for (const auto &op : *ops) verify = verify || (op.is_string() && op == "verify");
        if (!verify) {
            warnings.push_back(where + " skipped: \"key_ops\" lacks \"verify\"");
            return skipped;
        }
    }
    auto alg = optional_string(jwk, "alg", where);
    if (!alg.error.empty()) return refuse(std::move(alg.error));
    if (alg.value) {
        key.alg = alg_from_name(*alg.value);
        if (!key.alg) {
            warnings.push_back(where + " skipped: \"alg\" is not a JWS algorithm this module verifies");
            return skipped;
        }
    }

    Checked<ossl::Pkey> pkey{ossl::Pkey()};
    auto crv_member = optional_string(jwk, "crv", where);
    if (!crv_member.error.empty()) return refuse(std::move(crv_member.error));
    const std::optional<std::string> &crv = crv_member.value;
    const std::string &kty_name = *kty.value;
    if (kty_name == "RSA") {
        pkey = rsa_from_jwk(jwk, where);
    } else if (kty_name == "EC") {
        if (!crv) return refuse(where + ": \"crv\" is missing");
        if (*crv == "P-256") {
            pkey = ec_from_jwk(jwk, where, "prime256v1", 32);
        } else if (*crv == "P-384") {
            pkey = ec_from_jwk(jwk, where, "secp384r1", 48);
        } else if (*crv == "P-521") {
            pkey = ec_from_jwk(jwk, where, "secp521r1", 66);
        } else {
            warnings.push_back(where + " skipped: EC curve is not P-256, P-384 or P-521");
            return skipped;
        }
    } else if (kty_name == "OKP") {
        if (!crv) return refuse(where + ": \"crv\" is missing");
        if (*crv != "Ed25519") {
            warnings.push_back(where + " skipped: OKP curve is not Ed25519");
            return skipped;
        }
        pkey = ed25519_from_jwk(jwk, where);
    } else if (kty_name == "oct") {
        Checked<std::string> k = member_bytes(jwk, "k", where);
        if (!k.error.empty()) return refuse(std::move(k.error));
        key.type = KeyType::oct;
        key.secret = SecretBytes(k.value);
        OPENSSL_cleanse(k.value.data(), k.value.size());
        prepare_hmac(key);
    } else {
        warnings.push_back(where + " skipped: \"kty\" is not RSA, EC, OKP or oct");
        return skipped;
    }
    if (!pkey.error.empty()) return refuse(std::move(pkey.error));
    if (pkey.value) {
        Checked<KeyType> type = classify(pkey.value.get());
        if (!type.error.empty()) return refuse(where + ": " + type.error);
        key.type = type.value;
        key.pkey = share(std::move(pkey.value));
    }
    if (key.alg && key_type_for(*key.alg) != key.type) {
        return refuse(where + ": \"alg\" " + std::string(alg_name(*key.alg)) + " does not fit an " +
                      std::string(key_type_name(key.type)) + " key");
    }
    return std::optional<Key>(std::move(key));
}

Checked<KeySet> parse_jwks(std::string_view text, std::vector<std::string> &warnings) {
    const json doc = parse_json(text);
    if (!doc.is_object()) return refuse("not a JSON object (a JWK Set or a JWK)");
    std::vector<const json *> jwks;
    if (const auto keys = doc.find("keys"); keys != doc.end()) {
        if (!keys->is_array()) return refuse("\"keys\" is not an array");
        for (const auto &k : *keys) jwks.push_back(&k);
    } else if (doc.contains("kty")) {
        jwks.push_back(&doc);
    } else {
        return refuse("a JSON document without \"keys\" or \"kty\"");
    }
    if (jwks.size() > kMaxJwks) return refuse("more than 64 keys");
    KeySet keys;
    for (std::size_t i = 0; i < jwks.size(); ++i) {
        Checked<std::optional<Key>> key = jwk_key(*jwks[i], i + 1, warnings);
        if (!key.error.empty()) return refuse(std::move(key.error));
        if (key.value) keys.push_back(std::move(*key.value));
    }
    if (keys.empty()) return refuse("no usable key in the JWK Set");
    return keys;
}

}  // namespace

// ---------------------------------------------------------------- SecretBytes

SecretBytes::SecretBytes(std::string_view bytes) : bytes_(bytes.begin(), bytes.end()) {}
SecretBytes::SecretBytes(const SecretBytes &other) : bytes_(other.bytes_) {}
SecretBytes::SecretBytes(SecretBytes &&other) noexcept : bytes_(std::move(other.bytes_)) {}

SecretBytes &SecretBytes::operator=(const SecretBytes &other) {
    if (this != &other) {
        wipe();
        bytes_ = other.bytes_;
    }
    return *this;
}

SecretBytes &SecretBytes::operator=(SecretBytes &&other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
    }
    return *this;
}

SecretBytes::~SecretBytes() {
    wipe();
}

void SecretBytes::wipe() noexcept {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
}

// ---------------------------------------------------------------- public

KeyFile parse_key_file(std::string_view text) noexcept {
    KeyFile result;
    try {
        if (text.substr(0, 3) == "\xef\xbb\xbf") text.remove_prefix(3);  // a UTF-8 BOM
        std::size_t start = 0;
        while (start < text.size() &&
               (text[start] == ' ' || text[start] == '\t' || text[start] == '\r' || text[start] == '\n')) {
            ++start;
        }
        Checked<KeySet> keys = refuse("neither a PEM public key nor a JWK Set");
        if (start < text.size() && text[start] == '{') {
            keys = parse_jwks(text, result.warnings);
        } else if (text.find("-----BEGIN ") != std::string_view::npos) {
            keys = parse_pem(text);
        }
        result.keys = std::move(keys.value);
        result.error = std::move(keys.error);
    } catch (...) {
        result.keys.clear();
        result.error = "out of memory";
    }
    ERR_clear_error();
    return result;
}

void prepare_hmac(Key &key) noexcept {
    key.hmac = HmacKey::prepare(key.secret.view());
}

Key hmac_key(std::string_view secret) {
    Key key;
    key.type = KeyType::oct;
    key.secret = SecretBytes(secret);
    prepare_hmac(key);
    return key;
}

AlgSet algorithms_for(const KeySet &keys) noexcept {
    AlgSet set;
    for (const Key &key : keys) {
        if (key.alg) {
            set.add(*key.alg);
        } else {
            set.add_all_for(key.type);
        }
    }
    return set;
}

}  // namespace wa_pair
