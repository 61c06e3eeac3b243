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

// Thrown (and caught in parse_key_file) with the message for the operator.
struct KeyError {
    std::string message;
};

[[noreturn]] void fail(std::string message) { throw KeyError{std::move(message)}; }

std::shared_ptr<EVP_PKEY> share(ossl::Pkey pkey)
{
    return std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
}

// "key 2" or "key 2 (kid \"a\")": the kid only when it prints safely.
std::string label(std::size_t index, const std::optional<std::string>& kid)
{
    std::string out = "key " + std::to_string(index);
    if (!kid) return out;
    bool printable = kid->size() <= 64;
    for (char c : *kid) printable = printable && c >= 0x20 && c <= 0x7e && c != '"';
    if (printable) out += " (kid \"" + *kid + "\")";
    return out;
}

// The key type of a public key, or an error naming what is wrong with it.
KeyType classify(EVP_PKEY* pkey)
{
    const int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA) {
        const int bits = EVP_PKEY_get_bits(pkey);
        if (bits < kMinRsaBits) {
            fail("RSA key of " + std::to_string(bits) + " bits: at least " +
                 std::to_string(kMinRsaBits) + " are required");
        }
        if (bits > kMaxRsaBits) {
            fail("RSA key of " + std::to_string(bits) + " bits: at most " +
                 std::to_string(kMaxRsaBits) + " are supported");
        }
        return KeyType::rsa;
    }
    if (id == EVP_PKEY_EC) {
        char group[80] = {0};
        std::size_t len = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) {
            fail("EC key without a named curve");
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
            fail("EC key on curve " + std::string(name) +
                 ": only P-256, P-384 and P-521 are supported");
        }
        ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
        if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) fail("EC public key is not valid");
        return type;
    }
    if (id == EVP_PKEY_ED25519) return KeyType::ed25519;
    if (id == EVP_PKEY_ED448) fail("Ed448 key: EdDSA is supported with Ed25519 only");
    if (id == EVP_PKEY_RSA_PSS) fail("RSA-PSS restricted key: give a plain RSA key");
    fail("unsupported key type (RSA, EC, Ed25519 only)");
}

// ---------------------------------------------------------------- PEM

Key pem_key(const std::string& name, const unsigned char* der, long len)
{
    const unsigned char* p = der;
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
        fail("holds a private key (PEM \"" + name +
             "\"): give the public key only (openssl pkey -pubout)");
    } else if (name == "CERTIFICATE" || name == "X509 CERTIFICATE" ||
               name == "TRUSTED CERTIFICATE") {
        fail("holds a certificate: give its public key (openssl x509 -pubkey -noout)");
    } else {
        fail("PEM block \"" + name + "\" is not a public key");
    }
    if (!pkey) fail("PEM \"" + name + "\" block is not a valid public key");
    if (p != der + len) fail("PEM \"" + name + "\" block has trailing data");
    Key key;
    key.type = classify(pkey.get());
    key.pkey = share(std::move(pkey));
    return key;
}

KeySet parse_pem(std::string_view text)
{
    ossl::Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) throw std::bad_alloc();
    KeySet keys;
    for (;;) {
        char* name = nullptr;
        char* header = nullptr;
        unsigned char* data = nullptr;
        long len = 0;
        ERR_clear_error();
        if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
            const unsigned long err = ERR_peek_last_error();
            ERR_clear_error();
            // The normal end: no further "-----BEGIN".
            if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
            fail("malformed PEM block");
        }
        const ossl::OpensslString name_guard(name);
        const ossl::OpensslString header_guard(header);
        const ossl::OpensslBytes data_guard(data);
        if (header != nullptr && header[0] != '\0') fail("PEM block with headers (encrypted?)");
        keys.push_back(pem_key(name, data, len));
        if (keys.size() > kMaxJwks) fail("more than 64 keys");
    }
    if (keys.empty()) fail("no PEM block found");
    return keys;
}

// ---------------------------------------------------------------- JWK

// A base64url member that must be present; `size` 0: any non-empty length.
std::string member_bytes(const json& jwk, const char* name, const std::string& where,
                         std::size_t size = 0)
{
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) {
        fail(where + ": \"" + name + "\" is missing or not a string");
    }
    std::string bytes;
    if (!base64url_decode(it->get_ref<const std::string&>(), bytes)) {
        fail(where + ": \"" + name + "\" is not base64url");
    }
    if (bytes.empty()) fail(where + ": \"" + name + "\" is empty");
    if (size != 0 && bytes.size() != size) {
        fail(where + ": \"" + name + "\" must be " + std::to_string(size) + " bytes, not " +
             std::to_string(bytes.size()));
    }
    return bytes;
}

void refuse_private_members(const json& jwk, const std::string& where,
                            std::initializer_list<const char*> names)
{
    for (const char* name : names) {
        if (jwk.contains(name)) {
            fail(where + ": holds private key material (\"" + name +
                 "\"): publish the public key only");
        }
    }
}

ossl::Pkey from_params(const char* type, OSSL_PARAM_BLD* bld, const std::string& where)
{
    ossl::Params params(OSSL_PARAM_BLD_to_param(bld));
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();
        fail(where + ": not a valid " + type + " public key");
    }
    return ossl::Pkey(raw);
}

ossl::Pkey rsa_from_jwk(const json& jwk, const std::string& where)
{
    refuse_private_members(jwk, where, {"d", "p", "q", "dp", "dq", "qi", "oth"});
    const std::string n = member_bytes(jwk, "n", where);
    const std::string e = member_bytes(jwk, "e", where);
    if (e.size() > 8) fail(where + ": \"e\" is too large");
    ossl::Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                                static_cast<int>(n.size()), nullptr));
    ossl::Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                                static_cast<int>(e.size()), nullptr));
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
        throw std::bad_alloc();
    }
    return from_params("RSA", bld.get(), where);
}

ossl::Pkey ec_from_jwk(const json& jwk, const std::string& where, const char* group,
                       std::size_t field_bytes)
{
    refuse_private_members(jwk, where, {"d"});
    // RFC 7518 section 6.2.1.2 wants the full length, but some libraries (PyJWT before 2.8)
    // drop leading zero bytes: a shorter coordinate is the same number, padded back here.
    std::string x = member_bytes(jwk, "x", where);
    std::string y = member_bytes(jwk, "y", where);
    for (std::string* c : {&x, &y}) {
        if (c->size() > field_bytes) {
            fail(where + ": \"" + (c == &x ? "x" : "y") + "\" is longer than " +
                 std::to_string(field_bytes) + " bytes");
        }
        c->insert(0, field_bytes - c->size(), '\0');
    }
    const std::string point = "\x04" + x + y;  // uncompressed (SEC 1 section 2.3.3)
    ossl::ParamBld bld(OSSL_PARAM_BLD_new());
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size())) {
        throw std::bad_alloc();
    }
    return from_params("EC", bld.get(), where);
}

ossl::Pkey ed25519_from_jwk(const json& jwk, const std::string& where)
{
    refuse_private_members(jwk, where, {"d"});
    const std::string x = member_bytes(jwk, "x", where, 32);
    ossl::Pkey pkey(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
    if (!pkey) {
        ERR_clear_error();
        fail(where + ": not a valid Ed25519 public key");
    }
    return pkey;
}

std::optional<std::string> optional_string(const json& jwk, const char* name,
                                           const std::string& where)
{
    const auto it = jwk.find(name);
    if (it == jwk.end()) return std::nullopt;
    if (!it->is_string()) fail(where + ": \"" + name + "\" is not a string");
    return it->get<std::string>();
}

// One JWK; false (and a warning) when it is to be skipped.
bool jwk_key(const json& jwk, std::size_t index, Key& key, std::vector<std::string>& warnings)
{
    if (!jwk.is_object()) fail("key " + std::to_string(index) + " is not a JSON object");
    const auto kid_it = jwk.find("kid");
    if (kid_it != jwk.end() && !kid_it->is_string()) {
        fail(label(index, std::nullopt) + ": \"kid\" is not a string");
    }
    if (kid_it != jwk.end()) key.kid = kid_it->get<std::string>();
    const std::string where = label(index, key.kid);

    const auto kty = optional_string(jwk, "kty", where);
    if (!kty) fail(where + ": \"kty\" is missing");
    const auto use = optional_string(jwk, "use", where);
    if (use && *use != "sig") {
        warnings.push_back(where + " skipped: \"use\" is not \"sig\"");
        return false;
    }
    if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
        if (!ops->is_array()) fail(where + ": \"key_ops\" is not an array");
        bool verify = false;
        for (const auto& op : *ops) verify = verify || (op.is_string() && op == "verify");
        if (!verify) {
            warnings.push_back(where + " skipped: \"key_ops\" lacks \"verify\"");
            return false;
        }
    }
    const auto alg = optional_string(jwk, "alg", where);
    if (alg) {
        key.alg = alg_from_name(*alg);
        if (!key.alg) {
            warnings.push_back(where + " skipped: \"alg\" is not a JWS algorithm this module verifies");
            return false;
        }
    }

    ossl::Pkey pkey;
    const auto crv = optional_string(jwk, "crv", where);
    if (*kty == "RSA") {
        pkey = rsa_from_jwk(jwk, where);
    } else if (*kty == "EC") {
        if (!crv) fail(where + ": \"crv\" is missing");
        if (*crv == "P-256") {
            pkey = ec_from_jwk(jwk, where, "prime256v1", 32);
        } else if (*crv == "P-384") {
            pkey = ec_from_jwk(jwk, where, "secp384r1", 48);
        } else if (*crv == "P-521") {
            pkey = ec_from_jwk(jwk, where, "secp521r1", 66);
        } else {
            warnings.push_back(where + " skipped: EC curve is not P-256, P-384 or P-521");
            return false;
        }
    } else if (*kty == "OKP") {
        if (!crv) fail(where + ": \"crv\" is missing");
        if (*crv != "Ed25519") {
            warnings.push_back(where + " skipped: OKP curve is not Ed25519");
            return false;
        }
        pkey = ed25519_from_jwk(jwk, where);
    } else if (*kty == "oct") {
        std::string k = member_bytes(jwk, "k", where);
        key.type = KeyType::oct;
        key.secret = SecretBytes(k);
        OPENSSL_cleanse(k.data(), k.size());
        prepare_hmac(key);
    } else {
        warnings.push_back(where + " skipped: \"kty\" is not RSA, EC, OKP or oct");
        return false;
    }
    if (pkey) {
        try {
            key.type = classify(pkey.get());
        } catch (KeyError& e) {
            fail(where + ": " + e.message);
        }
        key.pkey = share(std::move(pkey));
    }
    if (key.alg && key_type_for(*key.alg) != key.type) {
        fail(where + ": \"alg\" " + std::string(alg_name(*key.alg)) + " does not fit an " +
             std::string(key_type_name(key.type)) + " key");
    }
    return true;
}

KeySet parse_jwks(std::string_view text, std::vector<std::string>& warnings)
{
    const json doc = parse_json(text);
    if (!doc.is_object()) fail("not a JSON object (a JWK Set or a JWK)");
    std::vector<const json*> jwks;
    if (const auto keys = doc.find("keys"); keys != doc.end()) {
        if (!keys->is_array()) fail("\"keys\" is not an array");
        for (const auto& k : *keys) jwks.push_back(&k);
    } else if (doc.contains("kty")) {
        jwks.push_back(&doc);
    } else {
        fail("a JSON document without \"keys\" or \"kty\"");
    }
    if (jwks.size() > kMaxJwks) fail("more than 64 keys");
    KeySet keys;
    for (std::size_t i = 0; i < jwks.size(); ++i) {
        Key key;
        if (jwk_key(*jwks[i], i + 1, key, warnings)) keys.push_back(std::move(key));
    }
    if (keys.empty()) fail("no usable key in the JWK Set");
    return keys;
}

}  // namespace

// ---------------------------------------------------------------- SecretBytes

SecretBytes::SecretBytes(std::string_view bytes) : bytes_(bytes.begin(), bytes.end()) {}
SecretBytes::SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other)
{
    if (this != &other) {
        wipe();
        bytes_ = other.bytes_;
    }
    return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept
{
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
    }
    return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() noexcept
{
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
}

// ---------------------------------------------------------------- public

KeyFile parse_key_file(std::string_view text) noexcept
{
    KeyFile result;
    try {
        if (text.substr(0, 3) == "\xef\xbb\xbf") text.remove_prefix(3);  // a UTF-8 BOM
        std::size_t start = 0;
        while (start < text.size() && (text[start] == ' ' || text[start] == '\t' ||
                                       text[start] == '\r' || text[start] == '\n')) {
            ++start;
        }
        if (start < text.size() && text[start] == '{') {
            result.keys = parse_jwks(text, result.warnings);
        } else if (text.find("-----BEGIN ") != std::string_view::npos) {
            result.keys = parse_pem(text);
        } else {
            fail("neither a PEM public key nor a JWK Set");
        }
    } catch (KeyError& e) {
        result.keys.clear();
        result.error = std::move(e.message);
    } catch (...) {
        result.keys.clear();
        result.error = "out of memory";
    }
    ERR_clear_error();
    return result;
}

void prepare_hmac(Key& key) noexcept
{
    key.hmac = HmacKey::prepare(key.secret.view());
}

Key hmac_key(std::string_view secret)
{
    Key key;
    key.type = KeyType::oct;
    key.secret = SecretBytes(secret);
    prepare_hmac(key);
    return key;
}

AlgSet algorithms_for(const KeySet& keys) noexcept
{
    AlgSet set;
    for (const Key& key : keys) {
        if (key.alg) {
            set.add(*key.alg);
        } else {
            set.add_all_for(key.type);
        }
    }
    return set;
}

}  // namespace wa_pair
