// Where the pairing backend is (wa_pair_backend) and what the operator adds to its requests
// (wa_pair_backend_header): the checks nginx -t runs, and the ones run again per request when
// the values carry variables.
#include "backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

namespace wa_pair {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool istarts_with(std::string_view s, std::string_view prefix) noexcept
{
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (lower(s[i]) != lower(prefix[i])) return false;
    }
    return true;
}

BackendUrl url_error(std::string_view message)
{
    BackendUrl result;
    result.error = message;
    return result;
}

// "1".."65535", digits only.
bool valid_port(std::string_view port) noexcept
{
    if (port.empty() || port.size() > 5) return false;
    long value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return value >= 1 && value <= 65535;
}

BackendUrl parse_unix_url(std::string_view rest, std::string_view default_uri)
{
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
    std::string_view uri = default_uri;
    if (colon != std::string_view::npos) {
        uri = rest.substr(colon + 1);
        if (uri.empty() || uri[0] != '/') {
            return url_error("the URI after the unix socket path must start with /");
        }
    }
    BackendUrl result;
    result.unix_socket = path;
    // libcurl needs a host name in the URL; with CURLOPT_UNIX_SOCKET_PATH it never resolves it.
    result.url = "http://localhost";
    result.url += uri;
    return result;
}

BackendUrl parse_tcp_url(std::string_view rest, std::string_view default_uri)
{
    const std::size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    const std::string_view uri = slash == std::string_view::npos ? default_uri : rest.substr(slash);
    if (authority.empty()) return url_error("the host is missing");
    if (authority.find_first_of("?#") != std::string_view::npos) {
        return url_error("the URI must start with /");
    }
    if (authority.find('@') != std::string_view::npos) {
        return url_error("user information in the URL is not supported");
    }

    std::string_view host;
    std::string_view port;
    bool has_port = false;
    std::string address;  // the host as written to libcurl
    if (authority[0] == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return url_error("unterminated IPv6 address");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return url_error("invalid characters after the IPv6 address");
            has_port = true;
            port = after.substr(1);
        }
        in6_addr v6;
        if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
            return url_error("invalid IPv6 address");
        }
        address = "[" + std::string(host) + "]";
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port = authority.substr(colon + 1);
        }
        in_addr v4;
        if (istarts_with(host, "localhost") && host.size() == 9) {
            address = "localhost";
        } else if (!host.empty() && inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) {
            address = host;
        } else {
            return url_error("the host must be an IP address or localhost (no DNS in a worker)");
        }
    }
    if (has_port && !valid_port(port)) return url_error("invalid port");

    BackendUrl result;
    result.url = "http://";
    result.url += address;
    if (has_port) {
        result.url += ':';
        result.url += port;
    }
    result.url += uri;
    return result;
}

}  // namespace

BackendUrl parse_backend_url(std::string_view value, std::string_view default_uri) noexcept
{
    try {
        if (value.empty()) return url_error("the URL is empty");
        for (char c : value) {
            const unsigned char byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7f) {
                return url_error(
                    "the URL must not contain spaces, control characters or non-ASCII bytes");
            }
        }
        if (value.find('#') != std::string_view::npos) {
            return url_error("a fragment (#) is not allowed");
        }
        if (istarts_with(value, "https://")) {
            return url_error(
                "https is not supported: use http:// to a unix socket or a local address");
        }
        if (!istarts_with(value, "http://")) return url_error("the URL must start with http://");
        const std::string_view rest = value.substr(7);
        if (istarts_with(rest, "unix:")) return parse_unix_url(rest.substr(5), default_uri);
        return parse_tcp_url(rest, default_uri);
    } catch (...) {
        BackendUrl result;
        result.error = "out of memory";  // fits the small-string buffer: no allocation
        return result;
    }
}

namespace {

bool is_variable_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `value` with each $name or ${name} replaced by `placeholder` (nginx's script syntax).
std::string replace_variables(std::string_view value, std::string_view placeholder)
{
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

bool is_tchar(char c) noexcept
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace

UrlParts split_url(std::string_view url) noexcept
{
    const std::size_t scheme = url.find("://");
    const std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
    const std::size_t slash = rest.find('/');
    return {rest.substr(0, slash), slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash)};
}

std::string backend_log_name(const BackendUrl& url)
{
    std::string_view target = url.url;
    target = target.substr(0, target.find('?'));
    if (url.unix_socket.empty()) return std::string(target);
    constexpr std::string_view kUnixHost = "http://localhost";
    if (target.substr(0, kUnixHost.size()) == kUnixHost) target.remove_prefix(kUnixHost.size());
    std::string name = "unix:";
    name += url.unix_socket;
    name += ':';
    name += target;
    return name;
}

std::string check_backend_url_template(std::string_view value) noexcept
{
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

std::string check_header_name(std::string_view name) noexcept
{
    try {
        if (name.empty()) return "the header name is empty";
        for (char c : name) {
            if (!is_tchar(c)) return "the header name must be an HTTP token";
        }
        for (std::string_view framing : {"Content-Length", "Transfer-Encoding", "Connection",
                                         "Keep-Alive", "Upgrade", "TE", "Trailer", "Expect",
                                         "Proxy-Connection"}) {
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

bool valid_header_value(std::string_view value) noexcept
{
    for (char c : value) {
        const unsigned char byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
    }
    return true;
}

std::string url_escape(std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        const unsigned char byte = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_') {
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
