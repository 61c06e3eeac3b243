// The JSON envelope every wa_pair location answers with (README.md, "What a client gets").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/failure.hpp"

namespace wa_pair {

// "Bad request" for 400, "Unauthorized" for 401, ... ; a generic text for codes
// outside the table so that nginx's own errors (408, 414 ...) still get an envelope.
std::string_view status_message(int code) noexcept;

// {"status":true,"code":200,"message":"Pairing code generated successfully",
//  "data":{"pair_code":"ABCD-1234","timeout":120}}
// No value only when memory is exhausted (the caller then answers 500 without a body).
std::optional<std::string> success_envelope(std::string_view pair_code, long timeout_seconds) noexcept;

// {"status":false,"code":400,"message":"Bad request","error":"..."}; the error text is
// JSON-escaped, so any byte sequence yields valid JSON. No value only when memory is exhausted.
std::optional<std::string> error_envelope(int code, std::string_view error) noexcept;

// The same bytes appended to `out` (which may keep its capacity from call to call). Throws
// only std::bad_alloc.
void append_error_envelope(std::string &out, int code, std::string_view error);

// Appends `text` as a quoted JSON string: '"', '\\' and control characters escaped, valid
// UTF-8 kept, every byte that does not start a valid UTF-8 sequence written as \ufffd,
// U+2028/U+2029 escaped (safe to embed in a script).
// Throws only std::bad_alloc.
void append_json_string(std::string &out, std::string_view text);

}  // namespace wa_pair
