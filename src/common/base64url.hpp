// base64url without padding (RFC 7515 section 2): JWS segments and JWK members.
#pragma once

#include <string>
#include <string_view>

namespace wa_pair {

// Decoding fails on padding, '+', '/', any other byte outside the alphabet, a bad length,
// and non-zero unused bits (so that one value has one encoding); `out` is cleared first and
// left empty on failure.
bool base64url_decode(std::string_view in, std::string &out) noexcept;

// Returns "" only when memory is exhausted (or `in` is empty).
std::string base64url_encode(std::string_view in) noexcept;

}  // namespace wa_pair
