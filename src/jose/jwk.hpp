// Verification keys: a PEM public key or a JSON Web Key (Set) (RFC 7517) -> typed keys.
// Read at configuration time; the verifier (jws.hpp) only ever sees a KeySet.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "common/hmac.hpp"
#include "jose/jwa.hpp"

namespace wa_pair {

// Secret bytes (an HMAC key), wiped from memory when destroyed or overwritten.
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::string_view bytes);
    SecretBytes(const SecretBytes &other);
    SecretBytes(SecretBytes &&other) noexcept;
    SecretBytes &operator=(const SecretBytes &other);
    SecretBytes &operator=(SecretBytes &&other) noexcept;
    ~SecretBytes();

    std::string_view view() const noexcept { return {reinterpret_cast<const char *>(bytes_.data()), bytes_.size()}; }
    bool empty() const noexcept { return bytes_.empty(); }

private:
    void wipe() noexcept;
    std::vector<unsigned char> bytes_;
};

struct Key {
    KeyType type = KeyType::oct;
    std::optional<std::string> kid;  // a token naming a kid uses only keys with that kid
    std::optional<Alg> alg;          // a JWK's "alg": the one algorithm this key verifies
    std::shared_ptr<EVP_PKEY> pkey;  // RSA, EC and Ed25519 keys (public only)
    SecretBytes secret;              // oct keys
    // oct keys: the HMAC-SHA-256/384/512 states keyed at configuration time (hmac.hpp).
    // Null: a check keys `secret` itself.
    std::shared_ptr<const HmacKey> hmac;
};

using KeySet = std::vector<Key>;

struct KeyFile {
    KeySet keys;
    std::string error;                  // empty: the file was read; else why not
    std::vector<std::string> warnings;  // JWKs skipped as RFC 7517 section 5 asks
};

// The content of a wa_pair_jwt_key_file: one or more PEM public keys (SPKI "PUBLIC KEY" or
// PKCS#1 "RSA PUBLIC KEY"; these have no kid), or a JWK Set ({"keys":[...]}) or a single JWK.
// Accepted: RSA of 2048 to 8192 bits, EC on P-256/P-384/P-521, OKP Ed25519, oct. Refused with
// an error: private keys and private JWK members, certificates, malformed keys, an "alg" that
// does not fit the key, and a file without a usable key. JWKs of a type or curve this module
// does not verify with, or meant for encryption ("use" other than "sig", "key_ops" without
// "verify"), are skipped with a warning. Messages name keys by position and kid, never by
// their secret parts.
KeyFile parse_key_file(std::string_view text) noexcept;

// Prepares key.hmac from key.secret (best effort: a failure leaves it null).
void prepare_hmac(Key &key) noexcept;

// A kid-less HMAC key (wa_pair_jwt_secret_file).
Key hmac_key(std::string_view secret);

// The default allow-list: every algorithm some key fits (its "alg" when it has one).
AlgSet algorithms_for(const KeySet &keys) noexcept;

}  // namespace wa_pair
