// Where the pairing backend is (wa_pair_backend) and what the operator adds to its requests
// (wa_pair_backend_header): the checks nginx -t runs, and the ones run again per request when
// the values carry variables.
#include "backend/backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "common/ascii.hpp"

namespace wa_pair {

namespace {

using ascii::iequals;

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

using ascii::is_digit;

bool is_letter(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

BackendUrl url_error(std::string_view message) {
    BackendUrl result;
    result.error = message;
    return result;
}

// Digits worth 1..65535. Leading zeros are read as nginx's ngx_atoi() reads them ("08080" is
// 8080); the Host header keeps them as written, as proxy_pass does.
bool valid_port(std::string_view port) noexcept {
    if (port.empty()) return false;
    long value = 0;
    for (char c : port) {
        if (!is_digit(c)) return false;
        value = value * 10 + (c - '0');
        if (value > 65535) return false;
    }
    return value >= 1;
}

// A label that URL parsers (WHATWG) and getaddrinfo() read as a number: digits, or "0x" and hex
// digits. A host ending in one is an IPv4 address or nothing: "127.1", "2130706433" or
// "0x7f000001" would reach the resolver, which reads them as 127.0.0.1.
bool numeric_label(std::string_view label) noexcept {
    if (label.size() >= 2 && label[0] == '0' && ascii::lower(label[1]) == 'x') {
        for (char c : label.substr(2)) {
            if (ascii::hex_value(c) < 0) return false;
        }
        return true;
    }
    for (char c : label) {
        if (!is_digit(c)) return false;
    }
    return !label.empty();
}

// "" when `host` (no brackets, no port) is an IPv4 literal or a host name nginx may resolve or
// find as an upstream{} block, else why not.
std::string_view check_host(std::string_view host) {
    if (host.empty()) return "the host is missing";
    for (char c : host) {
        if (!is_letter(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
            return "the host name may contain only letters, digits, '-', '.' and '_'";
        }
    }
    if (host.size() > 253) return "the host name is longer than 253 characters";
    if (host.front() == '-' || host.front() == '.' || host.back() == '-' || host.back() == '.') {
        return "the host name must not start or end with '-' or '.'";
    }
    if (host.find("..") != std::string_view::npos) return "the host name has an empty label (..)";
    if (numeric_label(host.substr(host.rfind('.') + 1))) {
        in_addr v4;
        if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
            return "invalid IPv4 address (four numbers 0-255, no leading zeros)";
        }
    }
    return {};
}

BackendUrl parse_unix_url(std::string_view rest, std::string_view default_uri) {
    // "/run/wa-pair/backend.sock" or "/run/wa-pair/backend.sock:/uri", as in proxy_pass:
    // the first ':' ends the path.
    const std::size_t colon = rest.find(':');
    const std::string_view path = rest.substr(0, colon);
    if (path.empty()) return url_error("the unix socket path is missing");
    if (path[0] != '/') return url_error("the unix socket path must be absolute");
    if (path.find_first_of("?#") != std::string_view::npos) {
        return url_error("the unix socket path must not contain '?' or '#'");
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        return url_error("the unix socket path is too long");
    }
    BackendUrl result;
    if (colon != std::string_view::npos) {
        const std::string_view uri = rest.substr(colon + 1);
        if (uri.empty() || uri[0] != '/') {
            return url_error("the URI after the unix socket path must start with /");
        }
        result.uri = uri;
        result.has_uri = true;
    } else {
        result.uri = default_uri;
    }
    result.address = "unix:";
    result.address += path;
    result.host = "localhost";  // what proxy_pass sends to a unix socket
    return result;
}

BackendUrl parse_tcp_url(std::string_view rest, std::string_view default_uri) {
    const std::size_t end = rest.find_first_of("/?");
    if (end != std::string_view::npos && rest[end] == '?') {
        return url_error("the URI must start with /");
    }
    const std::string_view authority = rest.substr(0, end);
    if (authority.empty()) return url_error("the host is missing");
    if (authority.find('@') != std::string_view::npos) {
        return url_error("user information in the URL is not supported");
    }

    std::string_view port;
    bool has_port = false;
    if (authority[0] == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return url_error("unterminated IPv6 address");
        in6_addr v6;
        if (inet_pton(AF_INET6, std::string(authority.substr(1, close - 1)).c_str(), &v6) != 1) {
            return url_error("invalid IPv6 address");
        }
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return url_error("only :port may follow the IPv6 address");
            has_port = true;
            port = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos &&
            authority.find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos) {
            return url_error("an IPv6 address must be in brackets: http://[::1]:8080");
        }
        const std::string_view why = check_host(authority.substr(0, colon));
        if (!why.empty()) return url_error(why);
        if (colon != std::string_view::npos) {
            has_port = true;
            port = authority.substr(colon + 1);
        }
    }
    if (has_port && !valid_port(port)) return url_error("the port must be a number from 1 to 65535");

    BackendUrl result;
    result.address = authority;
    result.host = authority;
    if (end != std::string_view::npos) {
        result.uri = rest.substr(end);
        result.has_uri = true;
    } else {
        result.uri = default_uri;
    }
    return result;
}

}  // namespace

BackendUrl parse_backend_url(std::string_view value, std::string_view default_uri) noexcept {
    try {
        if (value.empty()) return url_error("the URL is empty");
        for (char c : value) {
            const unsigned char byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7f) {
                return url_error("the URL must not contain spaces, control characters or non-ASCII bytes");
            }
        }
        if (value.find('#') != std::string_view::npos) {
            return url_error("a fragment (#) is not allowed");
        }
        const bool tls = istarts_with(value, "https://");
        if (!tls && !istarts_with(value, "http://")) {
            return url_error("the URL must start with http:// or https://");
        }
        const std::string_view rest = value.substr(tls ? 8 : 7);
        BackendUrl result = istarts_with(rest, "unix:") ? parse_unix_url(rest.substr(5), default_uri)
                                                        : parse_tcp_url(rest, default_uri);
        result.tls = tls && result.error.empty();
        return result;
    } catch (...) {
        BackendUrl result;
        result.error = "out of memory";  // fits the small-string buffer: no allocation
        return result;
    }
}

namespace {

bool is_variable_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `value` with each $name or ${name} replaced by `placeholder` (nginx's script syntax).
std::string replace_variables(std::string_view value, std::string_view placeholder) {
    std::string out;
    for (std::size_t i = 0; i < value.size();) {
        if (value[i] != '$') {
            out += value[i++];
            continue;
        }
        std::size_t end = i + 1;
        if (end < value.size() && value[end] == '{') {
            const std::size_t close = value.find('}', end);
            end = close == std::string_view::npos ? value.size() : close + 1;
        } else {
            while (end < value.size() && is_variable_char(value[end])) ++end;
        }
        out += placeholder;
        i = end;
    }
    return out;
}

}  // namespace

std::string backend_log_name(const BackendUrl &url) {
    const std::string_view path = std::string_view(url.uri).substr(0, url.uri.find('?'));
    std::string name;
    if (url.address.rfind("unix:", 0) == 0) {
        if (url.tls) name = "https://";
        name += url.address;
        if (!path.empty()) {
            name += ':';
            name += path;
        }
    } else {
        name = url.tls ? "https://" : "http://";
        name += url.address;
        name += path;
    }
    return name;
}

std::string check_backend_url_template(std::string_view value) noexcept {
    try {
        std::string first_error;
        for (std::string_view placeholder : {"1", "localhost", "/1"}) {
            BackendUrl url = parse_backend_url(replace_variables(value, placeholder));
            if (url.error.empty()) return {};
            if (first_error.empty()) first_error = std::move(url.error);
        }
        return first_error;
    } catch (...) {
        return "out of memory";
    }
}

std::string check_header_name(std::string_view name) noexcept {
    try {
        if (name.empty()) return "the header name is empty";
        for (char c : name) {
            if (!ascii::is_tchar(c)) return "the header name must be an HTTP token";
        }
        for (std::string_view framing : {"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade",
                                         "TE", "Trailer", "Expect", "Proxy-Connection"}) {
            if (iequals(name, framing)) {
                std::string why = "the header \"";
                why += framing;
                why += "\" is set by the module itself";
                return why;
            }
        }
        return {};
    } catch (...) {
        return "out of memory";
    }
}

bool valid_header_value(std::string_view value) noexcept {
    for (char c : value) {
        const unsigned char byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
    }
    return true;
}

std::string url_escape(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        const unsigned char byte = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    return out;
}

}  // namespace wa_pair
