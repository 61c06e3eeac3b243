// JWS signatures (RFC 7515, RFC 7518 section 3, RFC 8037): one algorithm, one key, one
// signature, verified with OpenSSL.
#pragma once

#include <string_view>

#include "jose/jwa.hpp"
#include "jose/jwk.hpp"

namespace wa_pair {

// True only when `signature` (the decoded third segment) is `alg`'s signature of
// `signing_input` under `key`, and `key` is of the type `alg` needs (an RSA key never serves
// as an HMAC secret). HS*: HMAC compared in constant time; RS*: RSASSA-PKCS1-v1_5; PS*:
// RSASSA-PSS with MGF1 and a salt as long as the hash, both with the algorithm's hash;
// ES*: the raw R||S of RFC 7518 section 3.4, exactly twice the curve's size; EdDSA: Ed25519.
// Leaves OpenSSL's error queue empty.
bool verify_signature(Alg alg, const Key &key, std::string_view signing_input, std::string_view signature) noexcept;

}  // namespace wa_pair
