// Keys from identity providers: what may be fetched, discovery, freshness (jwks.hpp).
#include "jose/jwks.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "common/ascii.hpp"
#include "common/json_scan.hpp"

namespace wa_pair {

namespace {

constexpr std::string_view kHttps = "https://";
constexpr std::string_view kHttp = "http://";
constexpr long kMinRefresh = 60;
constexpr long kMaxRefresh = 86400;

bool starts_with_ci(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && ascii::iequals(s.substr(0, prefix.size()), prefix);
}

bool loopback(std::string_view host) noexcept {
    if (ascii::iequals(host, "localhost")) return true;
    const std::string text(host);
    in_addr v4;
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        return (ntohl(v4.s_addr) >> 24) == 127;
    }
    in6_addr v6;
    return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

FetchUrl refused(std::string_view why) {
    FetchUrl url;
    url.error = why;
    return url;
}

}  // namespace

FetchUrl check_fetch_url(std::string_view url) noexcept {
    try {
        for (const char c : url) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte <= 0x20 || byte >= 0x7f) return refused("the URL has spaces, control bytes or non-ASCII bytes");
        }
        if (url.find('#') != std::string_view::npos) return refused("the URL has a fragment (#)");
        FetchUrl out;
        std::string_view rest;
        if (starts_with_ci(url, kHttps)) {
            out.tls = true;
            rest = url.substr(kHttps.size());
        } else if (starts_with_ci(url, kHttp)) {
            rest = url.substr(kHttp.size());
        } else {
            return refused("the URL must start with https:// (http:// only to a loopback address)");
        }
        const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
        if (authority.empty()) return refused("the URL has no host");
        if (authority.find('@') != std::string_view::npos) return refused("user information in the URL is not allowed");
        std::string_view host = authority;
        std::string_view port;
        if (host.front() == '[') {
            const std::size_t close = host.find(']');
            if (close == std::string_view::npos) return refused("unterminated IPv6 address");
            port = host.substr(close + 1);
            host = host.substr(1, close - 1);
            if (!port.empty() && port.front() != ':') return refused("only :port may follow the IPv6 address");
            if (!port.empty()) port.remove_prefix(1);
        } else if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        if (host.empty()) return refused("the URL has no host");
        if (authority.find(':') != std::string_view::npos && authority.front() != '[' && port.empty()) {
            return refused("the port is empty");
        }
        if (!port.empty()) {
            long value = 0;
            for (const char c : port) {
                if (c < '0' || c > '9' || value > 65535) return refused("the port must be a number from 1 to 65535");
                value = value * 10 + (c - '0');
            }
            if (value < 1 || value > 65535) return refused("the port must be a number from 1 to 65535");
        }
        if (!out.tls && !loopback(host)) {
            return refused("http:// is allowed to a loopback address only: keys must not cross a network in clear");
        }
        out.host.reserve(host.size());
        for (const char c : host) out.host += ascii::lower(c);
        return out;
    } catch (...) {
        return refused("out of memory");
    }
}

std::string discovery_url(std::string_view issuer) {
    while (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
    std::string url(issuer);
    url += "/.well-known/openid-configuration";
    return url;
}

Discovery parse_discovery(std::string_view json, std::string_view issuer) noexcept {
    Discovery out;
    try {
        JsonObject doc;
        if (scan_json_object(json, doc) != JsonScan::object) {
            out.error = "the OpenID configuration is not a JSON object";
            return out;
        }
        const JsonValue *named = doc.find("issuer");
        if (named == nullptr || !named->is_string() || !named->string_equals(issuer)) {
            out.error = "the OpenID configuration names another issuer";
            return out;
        }
        const JsonValue *jwks = doc.find("jwks_uri");
        if (jwks == nullptr || !jwks->is_string()) {
            out.error = "the OpenID configuration has no jwks_uri";
            return out;
        }
        std::string uri = jwks->string();
        const FetchUrl checked = check_fetch_url(uri);
        if (!checked.error.empty()) {
            out.error = "its jwks_uri cannot be fetched: " + checked.error;
            return out;
        }
        out.jwks_uri = std::move(uri);
    } catch (...) {
        out.jwks_uri.clear();
        out.error = "out of memory";
    }
    return out;
}

std::optional<long> cache_max_age(std::string_view cache_control) noexcept {
    while (!cache_control.empty()) {
        const std::size_t comma = cache_control.find(',');
        std::string_view directive = ascii::trim_blank(cache_control.substr(0, comma));
        cache_control = comma == std::string_view::npos ? std::string_view() : cache_control.substr(comma + 1);
        constexpr std::string_view kMaxAge = "max-age";
        if (directive.size() <= kMaxAge.size() || !ascii::iequals(directive.substr(0, kMaxAge.size()), kMaxAge)) {
            continue;
        }
        std::string_view value = ascii::trim_blank(directive.substr(kMaxAge.size()));
        if (value.empty() || value.front() != '=') continue;
        value = ascii::trim_blank(value.substr(1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        if (value.empty()) return std::nullopt;
        long seconds = 0;
        for (const char c : value) {
            if (c < '0' || c > '9') return std::nullopt;
            seconds = std::min<long>(seconds * 10 + (c - '0'), 100L * kMaxRefresh);
        }
        return seconds;
    }
    return std::nullopt;
}

long refresh_after(long refresh_seconds, std::optional<long> max_age) noexcept {
    if (!max_age) return refresh_seconds;
    return std::min(refresh_seconds, std::clamp(*max_age, kMinRefresh, kMaxRefresh));
}

KeyFile parse_fetched_jwks(std::string_view body) noexcept {
    std::size_t start = 0;
    while (start < body.size() &&
           (body[start] == ' ' || body[start] == '\t' || body[start] == '\r' || body[start] == '\n')) {
        ++start;
    }
    KeyFile result;
    try {
        JsonObject doc;
        if (start == body.size() || body[start] != '{' || scan_json_object(body, doc) != JsonScan::object) {
            result.error = "not a JSON object (a JWK Set)";
            return result;
        }
        const JsonValue *keys = doc.find("keys");
        if (keys == nullptr || keys->kind != JsonKind::array) {
            result.error = "a JSON object without a \"keys\" array (a JWK Set)";
            return result;
        }
    } catch (...) {
        result.error = "out of memory";
        return result;
    }
    result = parse_key_file(body);
    // A secret published at a URL is no secret: whoever fetches it could sign tokens.
    const auto oct =
        std::remove_if(result.keys.begin(), result.keys.end(), [](const Key &key) { return key.type == KeyType::oct; });
    if (oct != result.keys.end()) {
        try {
            result.warnings.emplace_back("symmetric (oct) keys skipped: a fetched key set is public");
        } catch (...) {}
        result.keys.erase(oct, result.keys.end());
        if (result.keys.empty() && result.error.empty()) result.error = "no usable key in the JWK Set";
    }
    return result;
}

}  // namespace wa_pair
