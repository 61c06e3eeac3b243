// The pairing backend's native protocol (DESIGN.md section 6): where it is, what we send,
// and how each of its answers becomes an envelope. The engine's text never reaches the
// client raw.
#include "backend.hpp"

#include <cstdint>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "json_parse.hpp"

namespace wa_pair {

namespace {

using json = nlohmann::json;

constexpr std::string_view kDefaultUri = "/v1/pair-code";

constexpr std::string_view kAlreadyLoggedIn = "Device is already logged in";
constexpr std::string_view kTooMany = "Too many pairing requests";
constexpr std::string_view kRejected = "Pairing request was rejected by the backend";
constexpr std::string_view kInvalidAnswer = "Invalid answer from the pairing backend";
constexpr std::string_view kUnavailable = "Pairing backend is unavailable";
constexpr std::string_view kTimedOut = "Pairing backend did not answer in time";

// WhatsApp's pairing code alphabet (whatsmeow's linkingBase32): no 0, I, O, U.
constexpr std::string_view kCodeAlphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";

constexpr long kMaxSeconds = 86400;
constexpr long kDefaultRetryAfter = 30;
constexpr std::size_t kMaxBackendErrorBytes = 200;

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

BackendUrl parse_unix_url(std::string_view rest)
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
    std::string_view uri = kDefaultUri;
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

BackendUrl parse_tcp_url(std::string_view rest)
{
    const std::size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    const std::string_view uri = slash == std::string_view::npos ? kDefaultUri : rest.substr(slash);
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

PairCode fail(int code, std::string_view text)
{
    PairCode answer;
    answer.failure = Failure{code, std::string(text)};
    return answer;
}

// Retry-After as delta-seconds, 0..86400; an HTTP-date or anything else gives -1.
long parse_retry_after(std::string_view value) noexcept
{
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!value.empty() && blank(value.front())) value.remove_prefix(1);
    while (!value.empty() && blank(value.back())) value.remove_suffix(1);
    if (value.empty()) return -1;
    long seconds = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return -1;
        seconds = seconds * 10 + (c - '0');
        if (seconds > kMaxSeconds) return -1;
    }
    return seconds;
}

PairCode map_success(std::string_view body, long default_timeout)
{
    const json answer = parse_json(body);
    if (!answer.is_object()) return fail(502, kInvalidAnswer);

    const auto code = answer.find("pair_code");
    if (code == answer.end() || !code->is_string()) return fail(502, kInvalidAnswer);
    std::string formatted = format_pair_code(code->get_ref<const std::string&>());
    if (formatted.empty()) return fail(502, kInvalidAnswer);

    long timeout = default_timeout;
    if (const auto t = answer.find("timeout"); t != answer.end() && !t->is_null()) {
        // An integer 1..86400; 120.0, "120", -1 and 2^64 are not.
        if (t->is_number_unsigned()) {
            const std::uint64_t seconds = t->get<std::uint64_t>();
            if (seconds < 1 || seconds > static_cast<std::uint64_t>(kMaxSeconds)) {
                return fail(502, kInvalidAnswer);
            }
            timeout = static_cast<long>(seconds);
        } else {
            return fail(502, kInvalidAnswer);  // a float, a negative number, a string, ...
        }
    }

    PairCode result;
    result.code = std::move(formatted);
    result.timeout = timeout;
    return result;
}

// Another 4xx: the engine's {"error":"..."} when it is short printable ASCII, never raw.
PairCode map_rejection(std::string_view body)
{
    const json answer = parse_json(body);
    if (answer.is_object()) {
        const auto error = answer.find("error");
        if (error != answer.end() && error->is_string()) {
            const std::string& text = error->get_ref<const std::string&>();
            bool printable = !text.empty() && text.size() <= kMaxBackendErrorBytes;
            for (char c : text) printable = printable && c >= 0x20 && c <= 0x7e;
            if (printable) return fail(400, text);
        }
    }
    return fail(400, kRejected);
}

PairCode internal_failure() noexcept
{
    PairCode answer;
    answer.failure.code = 500;
    answer.failure.error.assign(kInternalError);  // noexcept ends the worker if this throws
    return answer;
}

}  // namespace

BackendUrl parse_backend_url(std::string_view value) noexcept
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
        if (istarts_with(rest, "unix:")) return parse_unix_url(rest.substr(5));
        return parse_tcp_url(rest);
    } catch (...) {
        BackendUrl result;
        result.error = "out of memory";  // fits the small-string buffer: no allocation
        return result;
    }
}

std::string backend_request_body(std::string_view device_id, std::string_view phone) noexcept
{
    try {
        std::string body;
        body.reserve(32 + device_id.size() + phone.size());
        body += "{\"device_id\":";
        append_json_string(body, device_id);
        body += ",\"phone\":";
        append_json_string(body, phone);
        body += '}';
        return body;
    } catch (...) {
        return {};
    }
}

std::string format_pair_code(std::string_view code) noexcept
{
    try {
        if (code.size() == 9) {
            if (code[4] != '-') return {};
        } else if (code.size() != 8) {
            return {};
        }
        std::string formatted;
        formatted.reserve(9);
        for (std::size_t i = 0; i < code.size(); ++i) {
            if (code.size() == 9 && i == 4) continue;
            if (kCodeAlphabet.find(code[i]) == std::string_view::npos) return {};
            if (formatted.size() == 4) formatted += '-';
            formatted += code[i];
        }
        return formatted;
    } catch (...) {
        return {};
    }
}

PairCode map_backend_answer(long http_status, std::string_view body,
                            std::string_view retry_after, long default_timeout) noexcept
{
    try {
        if (http_status == 200) return map_success(body, default_timeout);
        if (http_status == 409) return fail(409, kAlreadyLoggedIn);
        if (http_status == 429) {
            PairCode answer = fail(429, kTooMany);
            const long seconds = parse_retry_after(retry_after);
            answer.retry_after = seconds >= 0 ? seconds : kDefaultRetryAfter;
            return answer;
        }
        if (http_status >= 400 && http_status <= 499) return map_rejection(body);
        if (http_status >= 500 && http_status <= 599) return fail(500, kInternalError);
        return fail(502, kInvalidAnswer);  // 1xx, 3xx, a 2xx other than 200, nonsense
    } catch (...) {
        return internal_failure();
    }
}

PairCode map_transport_failure(TransportFailure failure) noexcept
{
    try {
        switch (failure) {
        case TransportFailure::unreachable: return fail(503, kUnavailable);
        case TransportFailure::timeout: return fail(504, kTimedOut);
        case TransportFailure::bad_answer:
        case TransportFailure::too_large: return fail(502, kInvalidAnswer);
        }
        return fail(502, kInvalidAnswer);
    } catch (...) {
        return internal_failure();
    }
}

}  // namespace wa_pair
