// One JWS signature check per algorithm family. Every path fails closed and clears OpenSSL's
// error queue, which is per thread: a stale error would show up in nginx's next SSL message.
#include "jose/jws.hpp"

#include <climits>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "common/ossl.hpp"

namespace wa_pair {

namespace {

const EVP_MD *digest_for(Alg alg) noexcept {
    switch (alg) {
    case Alg::HS256:
    case Alg::RS256:
    case Alg::PS256:
    case Alg::ES256:
        return EVP_sha256();
    case Alg::HS384:
    case Alg::RS384:
    case Alg::PS384:
    case Alg::ES384:
        return EVP_sha384();
    case Alg::HS512:
    case Alg::RS512:
    case Alg::PS512:
    case Alg::ES512:
        return EVP_sha512();
    case Alg::EdDSA:
        return nullptr;  // Ed25519 hashes internally
    }
    return nullptr;
}

const unsigned char *bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char *>(s.data());
}

bool verify_hmac(Alg alg, const EVP_MD *md, const Key &key, std::string_view input, std::string_view sig) noexcept {
    const std::string_view secret = key.secret.view();
    if (secret.empty() || secret.size() > static_cast<std::size_t>(INT_MAX)) return false;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (key.hmac) {
        const HmacHash hash = alg == Alg::HS256   ? HmacHash::sha256
                              : alg == Alg::HS384 ? HmacHash::sha384
                                                  : HmacHash::sha512;
        mac_len = static_cast<unsigned int>(key.hmac->sign(hash, input, mac));
        if (mac_len == 0) return false;
    } else if (HMAC(md, secret.data(), static_cast<int>(secret.size()), bytes(input), input.size(), mac, &mac_len) ==
               nullptr) {
        return false;
    }
    const bool ok = sig.size() == mac_len && CRYPTO_memcmp(sig.data(), mac, mac_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

// RS*, PS*, EdDSA and (with a DER signature) ES*.
bool verify_pkey(Alg alg, const EVP_MD *md, EVP_PKEY *pkey, std::string_view input, std::string_view sig) {
    ossl::MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx) return false;
    EVP_PKEY_CTX *pctx = nullptr;  // owned by ctx
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pkey) != 1) return false;
    if (alg == Alg::PS256 || alg == Alg::PS384 || alg == Alg::PS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
            return false;
        }
    }
    return EVP_DigestVerify(ctx.get(), bytes(sig), sig.size(), bytes(input), input.size()) == 1;
}

// RFC 7518 section 3.4: R and S, each as long as the curve's order, big-endian. OpenSSL
// wants the DER of ECDSA-Sig-Value.
bool verify_ecdsa(Alg alg, const EVP_MD *md, EVP_PKEY *pkey, std::string_view input, std::string_view sig) {
    const std::size_t half = alg == Alg::ES256 ? 32 : alg == Alg::ES384 ? 48 : 66;
    if (sig.size() != 2 * half) return false;
    ossl::EcdsaSig ecdsa(ECDSA_SIG_new());
    ossl::Bignum r(BN_bin2bn(bytes(sig), static_cast<int>(half), nullptr));
    ossl::Bignum s(BN_bin2bn(bytes(sig) + half, static_cast<int>(half), nullptr));
    if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) return false;
    r.release();  // owned by ecdsa now
    s.release();
    unsigned char *der = nullptr;
    const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (der_len <= 0) return false;
    const ossl::OpensslBytes der_guard(der);
    return verify_pkey(alg, md, pkey, input,
                       std::string_view(reinterpret_cast<const char *>(der), static_cast<std::size_t>(der_len)));
}

bool verify(Alg alg, const Key &key, std::string_view input, std::string_view sig) {
    if (key.type != key_type_for(alg)) return false;
    const EVP_MD *md = digest_for(alg);
    switch (alg) {
    case Alg::HS256:
    case Alg::HS384:
    case Alg::HS512:
        return verify_hmac(alg, md, key, input, sig);
    case Alg::RS256:
    case Alg::RS384:
    case Alg::RS512:
    case Alg::PS256:
    case Alg::PS384:
    case Alg::PS512:
        if (!key.pkey || sig.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.pkey.get()))) {
            return false;
        }
        return verify_pkey(alg, md, key.pkey.get(), input, sig);
    case Alg::ES256:
    case Alg::ES384:
    case Alg::ES512:
        return key.pkey && verify_ecdsa(alg, md, key.pkey.get(), input, sig);
    case Alg::EdDSA:
        return key.pkey && sig.size() == 64 && verify_pkey(alg, nullptr, key.pkey.get(), input, sig);
    }
    return false;
}

}  // namespace

bool verify_signature(Alg alg, const Key &key, std::string_view signing_input, std::string_view signature) noexcept {
    bool ok = false;
    try {
        ok = verify(alg, key, signing_input, signature);
    } catch (...) {
        ok = false;
    }
    // A prepared HMAC key hashes with OpenSSL's SHA-2 block functions, which queue no errors:
    // no queue to clear (clearing costs a tenth of the check).
    if (!(key.hmac && key_type_for(alg) == KeyType::oct)) ERR_clear_error();
    return ok;
}

}  // namespace wa_pair
