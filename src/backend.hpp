// Where the pairing backend is (wa_pair_backend) and what the operator adds to its requests
// (wa_pair_backend_header). The protocols themselves are in protocol.hpp.
#pragma once

#include <string>
#include <string_view>

namespace wa_pair {

struct BackendUrl {
    std::string url;          // what libcurl connects to (http://localhost/v1/pair-code for
                              // unix:); its authority is the Host header, its path the target
    std::string unix_socket;  // absolute path, empty for TCP
    std::string error;        // set when the configured value is invalid (for nginx -t)
};

// proxy_pass's form: "http://unix:/run/wa-pair/backend.sock:/v1/pair-code" (the ":/uri" part
// optional, default `default_uri`, the protocol's documented path) or
// "http://127.0.0.1:8080/v1/pair-code". TCP hosts must be IP literals ("[::1]" for IPv6) or
// "localhost" (no DNS in a worker). A URI, when given, is kept as written, query string
// included; an explicit "/" stays "/".
BackendUrl parse_backend_url(std::string_view value,
                             std::string_view default_uri = "/v1/pair-code") noexcept;

// A URL as BackendUrl::url has it, "http://host:port/path?query", in the two parts a request
// needs: the authority ("host:port", the Host header) and the target ("/path?query"; "/" when
// the URL has no path).
struct UrlParts {
    std::string_view authority;
    std::string_view target;
};
UrlParts split_url(std::string_view url) noexcept;

// How the error log names a backend: "unix:/run/x.sock:/v1/pair-code" or
// "http://127.0.0.1:8080/v1/pair-code", never with the query string (it may carry a key).
std::string backend_log_name(const BackendUrl& url);

// For a wa_pair_backend value with nginx variables ($name, ${name}), checked at nginx -t: ""
// when the value parses with every variable replaced by one same placeholder ("1",
// "localhost" or "/1", whichever fits where the variables stand), else the error with "1".
// So a bad scheme, host or socket path is still refused before any request.
std::string check_backend_url_template(std::string_view value) noexcept;

// wa_pair_backend_header's name: an HTTP token (RFC 9110 section 5.6.2). "" when accepted,
// else why not. Framing and connection headers are refused: the module writes them
// (src/http1.hpp).
std::string check_header_name(std::string_view name) noexcept;

// A header value: no control characters other than HTAB (so no CR, LF or NUL that could
// split the request).
bool valid_header_value(std::string_view value) noexcept;

// Percent-encodes every byte but A-Z a-z 0-9 '-' '_', so that a value (a device id, say)
// is one safe segment of a URL path or query: "dev-42" stays, "a/../b" is "a%2F%2E%2E%2Fb".
std::string url_escape(std::string_view value);

}  // namespace wa_pair
