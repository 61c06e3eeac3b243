// The pairing backend's protocols: the native one (docs/protocol.md) and adapters for the
// engines operators already run (docs/engines.md). For each: the request nginx sends, and how
// every documented answer becomes the client's envelope. An engine's own text never reaches
// the client raw.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/envelope.hpp"
#include "edge/outcome.hpp"

namespace wa_pair {

enum class Protocol {
    native,     // POST /v1/pair-code, {"device_id","phone"} (docs/protocol.md)
    origin,     // go-whatsapp-multi-session-rest-api: POST /devices/me/login-code
    gowa,       // GoWA (go-whatsapp-web-multidevice): GET /app/login-with-code?phone=
    waha,       // WAHA: POST /api/{session}/auth/request-code
    wuzapi,     // wuzapi: POST /session/pairphone
    evolution,  // Evolution API: GET /instance/connect/{instance}?number=
};

// The names of wa_pair_backend_protocol, exactly ("native", "gowa", ...); none otherwise.
std::optional<Protocol> parse_protocol(std::string_view name) noexcept;
std::string_view protocol_name(Protocol protocol) noexcept;

// The path called when wa_pair_backend's URL has none ("/v1/pair-code" for native ...).
std::string_view default_path(Protocol protocol) noexcept;

// The most seconds a code of `protocol` is answered with (0: no cap, the engine says):
// what is left of the engine's code when the module answers, as far as the engine's code
// lets the module know (docs/engines.md, "Code lifetimes").
long max_code_seconds(Protocol protocol) noexcept;

struct Header {
    std::string name;
    std::string value;
};

// What the module knows when it calls the backend.
struct RequestInput {
    std::string_view device_id;      // from the verified token
    std::string_view phone;          // normalised, digits only
    std::string_view authorization;  // the client's Authorization header (sent to origin only)
    std::string_view request_id;     // the answer's X-Request-ID, "" for none
};

struct BackendRequest {
    bool post = true;             // POST with `body`, else GET
    std::string query;            // to append to the URL's query ("phone=628..."), or ""
    std::vector<Header> headers;  // in the order sent
    std::string body;
};

// The request of `protocol` for `in`. Throws only std::bad_alloc.
BackendRequest build_request(Protocol protocol, const RequestInput &in);

// The operator's wa_pair_backend_header lines: each replaces the adapter's headers of the same
// name (compared case-insensitively); an empty value only removes them. Throws only
// std::bad_alloc.
void apply_operator_headers(BackendRequest &request, const std::vector<Header> &headers);

// `url` with `query` appended after '?' or '&' (the URL's own query is kept). Throws only
// std::bad_alloc.
std::string append_query(std::string_view url, std::string_view query);

// How the glue logs a failed answer: `error` for the backend's own failures (5xx), `warn` for
// an engine whose session needs its operator (stopped, failed: a retry cannot help), `info`
// for an answer about the request (already paired, refused, rate limited).
enum class LogLevel { info, warn, error };

struct PairCode {
    std::string code;      // XXXX-XXXX on success
    long timeout = 0;      // seconds, never more than the engine's code lives
    long retry_after = 0;  // seconds, sent as Retry-After when has_retry_after
    bool has_retry_after = false;
    bool invalid_token = false;  // a 401: WWW-Authenticate: Bearer error="invalid_token"
    Outcome outcome = Outcome::none;
    LogLevel log_level = LogLevel::info;  // of a failure
    std::string_view reason;              // for the error log: what went wrong, in our own words
    Failure failure;
};

// Checks a code against WhatsApp's alphabet; accepts "ABCD1234" or "ABCD-1234" (lower case
// is NOT accepted: the alphabet is upper case). Returns "ABCD-1234", or nullopt when invalid.
std::optional<std::string> format_pair_code(std::string_view code) noexcept;

// Maps a complete HTTP answer of `protocol`. `retry_after` is the Retry-After header value
// ("" when absent); `default_timeout` is used when the answer has no timeout.
PairCode map_answer(Protocol protocol, long http_status, std::string_view body, std::string_view retry_after,
                    long default_timeout) noexcept;

// The native protocol's body {"device_id":"dev-42","phone":"6281234567890"}, JSON-escaped.
// Throws only std::bad_alloc (build_request's callers catch it).
std::string backend_request_body(std::string_view device_id, std::string_view phone);

// map_answer(Protocol::native, ...).
PairCode map_backend_answer(long http_status, std::string_view body, std::string_view retry_after,
                            long default_timeout) noexcept;

// How a call ended without an answer to map (nginx's upstream tells the module which).
enum class TransportFailure {
    unreachable,  // no connection: refused, no socket, no live server, a name not resolved
    timeout,      // no connection or no whole answer in time
    no_answer,    // the request was sent; the connection closed or failed before the answer
    tls,          // the TLS handshake or the certificate's verification failed
    bad_answer,   // not HTTP, a bad framing, an answer before the request was written
    too_large,    // over wa_pair_backend_buffer_size
    internal,     // nginx itself failed (memory)
};

PairCode map_transport_failure(TransportFailure failure) noexcept;

}  // namespace wa_pair
