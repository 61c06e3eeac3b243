// base64url without padding (RFC 7515 section 2): JWS segments and JWK members.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wa_pair {

// The decoded bytes; no value for padding, '+', '/', any other byte outside the alphabet, a
// bad length, and non-zero unused bits (so that one value has one encoding), nor when memory
// is exhausted.
std::optional<std::string> base64url_decode(std::string_view in) noexcept;

// Throws only std::bad_alloc.
std::string base64url_encode(std::string_view in);

}  // namespace wa_pair
