// A compact HS256 JWS of a header and payload given as JSON text, signed with OpenSSL's
// one-shot HMAC(): the unit tests' own tokens (PyJWT's and Crypt::JWT's come from outside).
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

#include "common/base64url.hpp"

namespace wa_pair::testing_hs256 {

inline std::string mint(std::string_view secret, std::string_view header, std::string_view payload) {
    const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(input.data()), input.size(), mac, &len);
    return input + "." + base64url_encode(std::string(reinterpret_cast<char *>(mac), len));
}

}  // namespace wa_pair::testing_hs256
