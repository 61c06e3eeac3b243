#include "common/hmac.hpp"

// OpenSSL 3 deprecates the low-level SHA-2 calls in favour of EVP, whose per-call provider
// dispatch and context duplication cost more than hashing a JWT on this path (the reason this
// file exists). They remain part of the 3.x API; only this file uses them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <new>

namespace wa_pair {

struct HmacKey::States {
    SHA256_CTX inner256, outer256;
    SHA512_CTX inner384, outer384, inner512, outer512;
};

namespace {

const unsigned char *bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char *>(s.data());
}

// The key padded to the hash's block: K0 of RFC 2104 (a longer key is hashed first).
template <std::size_t Block, typename Digest>
void pad_key(std::string_view secret, unsigned char (&k0)[Block], Digest digest) {
    OPENSSL_cleanse(k0, Block);
    if (secret.size() > Block) {
        digest(bytes(secret), secret.size(), k0);
    } else {
        for (std::size_t i = 0; i < secret.size(); ++i) k0[i] = bytes(secret)[i];
    }
}

template <typename Ctx, std::size_t Block, typename Init, typename Update>
bool key_states(const unsigned char (&k0)[Block], Ctx &inner, Ctx &outer, Init init, Update update) {
    unsigned char pad[Block];
    bool ok = init(&inner) == 1 && init(&outer) == 1;
    for (std::size_t i = 0; i < Block; ++i) pad[i] = k0[i] ^ 0x36;
    ok = ok && update(&inner, pad, Block) == 1;
    for (std::size_t i = 0; i < Block; ++i) pad[i] = k0[i] ^ 0x5c;
    ok = ok && update(&outer, pad, Block) == 1;
    OPENSSL_cleanse(pad, Block);
    return ok;
}

template <typename Ctx, typename Update, typename Final>
std::size_t mac(const Ctx &inner, const Ctx &outer, std::size_t len, std::string_view message, unsigned char *out,
                Update update, Final final) {
    Ctx ctx = inner;  // plain structs: a copy is the whole per-check setup
    unsigned char digest[SHA512_DIGEST_LENGTH];
    bool ok = update(&ctx, bytes(message), message.size()) == 1 && final(digest, &ctx) == 1;
    ctx = outer;
    ok = ok && update(&ctx, digest, len) == 1 && final(out, &ctx) == 1;
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    OPENSSL_cleanse(digest, sizeof(digest));
    return ok ? len : 0;
}

}  // namespace

HmacKey::HmacKey() = default;

HmacKey::~HmacKey() {
    if (states_) OPENSSL_cleanse(states_.get(), sizeof(States));
}

std::shared_ptr<const HmacKey> HmacKey::prepare(std::string_view secret) noexcept {
    if (secret.empty()) return nullptr;
    std::shared_ptr<HmacKey> key(new (std::nothrow) HmacKey());
    if (!key) return nullptr;
    key->states_.reset(new (std::nothrow) States());
    if (!key->states_) return nullptr;
    States &s = *key->states_;

    unsigned char k64[SHA256_CBLOCK];
    pad_key(secret, k64, SHA256);
    bool ok = key_states(k64, s.inner256, s.outer256, SHA256_Init, SHA256_Update);
    OPENSSL_cleanse(k64, sizeof(k64));

    unsigned char k128[SHA512_CBLOCK];
    pad_key(secret, k128, SHA384);
    ok = ok && key_states(k128, s.inner384, s.outer384, SHA384_Init, SHA384_Update);
    pad_key(secret, k128, SHA512);
    ok = ok && key_states(k128, s.inner512, s.outer512, SHA512_Init, SHA512_Update);
    OPENSSL_cleanse(k128, sizeof(k128));
    if (!ok) return nullptr;
    return key;
}

std::size_t HmacKey::sign(HmacHash hash, std::string_view message, unsigned char *out) const noexcept {
    const States &s = *states_;
    switch (hash) {
    case HmacHash::sha256:
        return mac(s.inner256, s.outer256, SHA256_DIGEST_LENGTH, message, out, SHA256_Update, SHA256_Final);
    case HmacHash::sha384:
        return mac(s.inner384, s.outer384, SHA384_DIGEST_LENGTH, message, out, SHA384_Update, SHA384_Final);
    case HmacHash::sha512:
        return mac(s.inner512, s.outer512, SHA512_DIGEST_LENGTH, message, out, SHA512_Update, SHA512_Final);
    }
    return 0;
}

}  // namespace wa_pair
