// Where the pairing backend is (wa_pair_backend) and what the operator adds to its requests
// (wa_pair_backend_header). The protocols themselves are in protocol.hpp.
#pragma once

#include <string>
#include <string_view>

namespace wa_pair {

struct BackendUrl {
    bool tls = false;      // https://
    std::string address;   // what nginx connects to, as ngx_parse_url() reads it:
                           // "unix:/run/wa.sock", "127.0.0.1:8080", "[::1]:8080", "engines",
                           // "waha:3000", "localhost"
    std::string host;      // the Host header: "localhost" for unix:, else the authority as
                           // written ("127.0.0.1:8080", "[::1]:8080", "engines", "waha:3000")
    std::string uri;       // the request target: the URI as written (query string included),
                           // else default_uri; an explicit "/" stays "/"
    bool has_uri = false;  // the value had its own URI
    std::string error;     // set when the value is invalid (shown by nginx -t); then every
                           // other member is empty
};

// proxy_pass's forms: "http://unix:/run/wa.sock" and "http://unix:/run/wa.sock:/uri",
// "http://127.0.0.1:8080/uri", "http://[::1]:8080/uri", "http://waha:3000/uri" (a host name,
// resolved by nginx when the configuration loads, or the name of an upstream{} block),
// "https://..." for all of them. The scheme and "unix:" in any case. Refused: a relative or too
// long socket path, a host that is neither an IP literal nor a plain host name (letters,
// digits, '-', '.', '_'; one ending in a number must be a dotted-quad IPv4 address), user
// information, a fragment, a URI not starting with '/', and any space, control character or
// non-ASCII byte. default_uri may be "" (the caller fills in the protocol's path later).
BackendUrl parse_backend_url(std::string_view value, std::string_view default_uri = "/v1/pair-code") noexcept;

// How the error log names a backend: "unix:/run/x.sock:/v1/pair-code",
// "http://127.0.0.1:8080/v1/pair-code", "https://engines/v1/pair-code" -- never the query string
// (it may carry a key). For an https unix: backend: "https://unix:/run/x.sock:/v1/pair-code".
std::string backend_log_name(const BackendUrl &url);

// For a wa_pair_backend value with nginx variables ($name, ${name}), checked at nginx -t: ""
// when the value parses with every variable replaced by one same placeholder ("1",
// "localhost" or "/1", whichever fits where the variables stand), else the error with "1".
// So a bad scheme, host or socket path is still refused before any request.
std::string check_backend_url_template(std::string_view value) noexcept;

// wa_pair_backend_header's name: an HTTP token (RFC 9110 section 5.6.2). "" when accepted,
// else why not. Framing and connection headers are refused: the module writes them
// (src/backend/http1.hpp).
std::string check_header_name(std::string_view name) noexcept;

// A header value: no control characters other than HTAB (so no CR, LF or NUL that could
// split the request).
bool valid_header_value(std::string_view value) noexcept;

// Percent-encodes every byte but A-Z a-z 0-9 '-' '_', so that a value (a device id, say)
// is one safe segment of a URL path or query: "dev-42" stays, "a/../b" is "a%2F%2E%2E%2Fb".
std::string url_escape(std::string_view value);

}  // namespace wa_pair
