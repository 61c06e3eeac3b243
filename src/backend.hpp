// Pairing backend: its URL, the request body we send, and the mapping of its answers
// (DESIGN.md section 6).
#pragma once

#include <string>
#include <string_view>

#include "envelope.hpp"

namespace wa_pair {

struct BackendUrl {
    std::string url;          // what libcurl is given: http://localhost/v1/pair-code for unix:
    std::string unix_socket;  // absolute path, empty for TCP
    std::string error;        // set when the configured value is invalid (for nginx -t)
};

// proxy_pass's form: "http://unix:/run/wa-pair/backend.sock:/v1/pair-code" (the ":/uri" part
// optional, default "/v1/pair-code") or "http://127.0.0.1:8080/v1/pair-code". TCP hosts
// must be IP literals ("[::1]" for IPv6) or "localhost" (no DNS in a worker). A URI, when
// given, is kept as written, query string included; an explicit "/" stays "/".
BackendUrl parse_backend_url(std::string_view value) noexcept;

// {"device_id":"dev-42","phone":"6281234567890"}, JSON-escaped. "" only when memory is
// exhausted.
std::string backend_request_body(std::string_view device_id, std::string_view phone) noexcept;

struct PairCode {
    std::string code;     // XXXX-XXXX on success
    long timeout = 0;     // seconds
    long retry_after = 0; // for 429
    Failure failure;
};

// Checks a code against WhatsApp's alphabet; accepts "ABCD1234" or "ABCD-1234" (lower case
// is NOT accepted: the alphabet is upper case). Returns "ABCD-1234" or "" when invalid.
std::string format_pair_code(std::string_view code) noexcept;

// Maps a complete HTTP answer of the native protocol. `retry_after` is the Retry-After header
// value ("" when absent); `default_timeout` is used when the answer has no timeout.
PairCode map_backend_answer(long http_status, std::string_view body,
                            std::string_view retry_after, long default_timeout) noexcept;

enum class TransportFailure { unreachable, timeout, bad_answer, too_large };

PairCode map_transport_failure(TransportFailure failure) noexcept;

}  // namespace wa_pair
