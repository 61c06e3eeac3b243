// What every protocol shares: names, default paths, the operator's headers, pair codes, and
// the answers that look the same whatever the engine (docs/engines.md).
#include "backend/protocol_common.hpp"
#include "common/ascii.hpp"

#include <cstdint>

namespace wa_pair {

namespace detail {

namespace {

// WhatsApp's pairing code alphabet (whatsmeow's linkingBase32, Baileys' Crockford variant):
// no 0, I, O, U.
constexpr std::string_view kCodeAlphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";

// kCodeAlphabet as a table: one load per symbol.
struct CodeSymbols {
    bool in[256] = {};
    constexpr CodeSymbols() {
        for (const char c : kCodeAlphabet) in[static_cast<unsigned char>(c)] = true;
    }
};
constexpr CodeSymbols kCodeSymbols;

}  // namespace

PairCode success(std::string formatted_code, long timeout) {
    PairCode answer;
    answer.code = std::move(formatted_code);
    answer.timeout = timeout;
    answer.outcome = Outcome::ok;
    return answer;
}

PairCode fail(int code, std::string_view text, Outcome outcome, std::string_view reason) {
    PairCode answer;
    answer.failure = Failure{code, std::string(text)};
    answer.outcome = outcome;
    answer.log_level = code >= 500 ? LogLevel::error : LogLevel::info;
    answer.reason = reason;
    return answer;
}

PairCode already_logged_in(std::string_view reason) {
    return fail(409, kAlreadyLoggedIn, Outcome::already_logged_in, reason);
}

PairCode rate_limited(std::string_view retry_after_header) {
    PairCode answer = fail(429, kTooMany, Outcome::rate_limited, "the backend is rate limiting");
    const long seconds = parse_retry_after(retry_after_header);
    answer.retry_after = seconds >= 0 ? seconds : kDefaultRetryAfter;
    answer.has_retry_after = true;
    return answer;
}

PairCode rejected(std::string_view reason) {
    return fail(400, kRejected, Outcome::backend_rejected, reason);
}

PairCode backend_failed(std::string_view reason) {
    return fail(500, kInternalError, Outcome::backend_failed, reason);
}

PairCode not_ready(std::string_view reason, bool retry) {
    PairCode answer = fail(503, kUnavailable, Outcome::backend_not_ready, reason);
    if (retry) {
        answer.retry_after = kNotReadyRetryAfter;
        answer.has_retry_after = true;
    }
    return answer;
}

PairCode session_down(std::string_view reason) {
    // No Retry-After: the engine's session stays down until its operator starts it again,
    // so a client told to retry would retry for ever.
    PairCode answer = fail(503, kUnavailable, Outcome::backend_not_ready, reason);
    answer.log_level = LogLevel::warn;
    return answer;
}

PairCode whatsapp_rate_limited(std::string_view reason) {
    PairCode answer = fail(429, kTooMany, Outcome::rate_limited, reason);
    answer.retry_after = kWhatsAppRateLimitRetryAfter;
    answer.has_retry_after = true;
    return answer;
}

PairCode timed_out(std::string_view reason) {
    return fail(504, kTimedOut, Outcome::backend_timeout, reason);
}

PairCode auth_failed(std::string_view reason) {
    return fail(502, kInvalidAnswer, Outcome::backend_auth_failed, reason);
}

PairCode invalid_answer(std::string_view reason) {
    return fail(502, kInvalidAnswer, Outcome::bad_backend_answer, reason);
}

PairCode internal_failure() noexcept {
    PairCode answer;
    answer.failure.code = 500;
    answer.failure.error.assign(kInternalError);  // noexcept ends the worker if this throws
    answer.outcome = Outcome::internal_error;
    answer.log_level = LogLevel::error;
    answer.reason = "out of memory";
    return answer;
}

long parse_retry_after(std::string_view value) noexcept {
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

bool is_short_printable(std::string_view text) noexcept {
    if (text.empty() || text.size() > kMaxBackendErrorBytes) return false;
    for (char c : text) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

WhatsmeowError whatsmeow_error(std::string_view text) noexcept {
    // whatsmeow (errors.go): IQError's text is "info query returned status 429:
    // rate-overlimit", which the engines may wrap; its other errors are plain sentences.
    const auto ends_with = [text](std::string_view tail) {
        return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
    };
    if (text.find("rate-overlimit") != std::string_view::npos) return WhatsmeowError::rate_limited;
    if (ends_with("info query timed out") || ends_with("context deadline exceeded")) {
        return WhatsmeowError::timed_out;
    }
    if (ends_with("websocket not connected")) return WhatsmeowError::not_connected;
    return WhatsmeowError::other;
}

const json *member(const json &object, const char *key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

const std::string *string_member(const json &object, const char *key) {
    const json *value = member(object, key);
    return value != nullptr && value->is_string() ? &value->get_ref<const std::string &>() : nullptr;
}

PairCode success_from(const json *code, long timeout, std::string_view reason_if_invalid) {
    if (code == nullptr || !code->is_string()) return invalid_answer(reason_if_invalid);
    std::optional<std::string> formatted = format_pair_code(code->get_ref<const std::string &>());
    if (!formatted) return invalid_answer(reason_if_invalid);
    return success(std::move(*formatted), timeout);
}

PairCode success_from(const JsonValue *code, long timeout, std::string_view reason_if_invalid) {
    if (code == nullptr || !code->is_string()) return invalid_answer(reason_if_invalid);
    std::string scratch;
    std::optional<std::string> formatted = format_pair_code(code->decoded(scratch));
    if (!formatted) return invalid_answer(reason_if_invalid);
    return success(std::move(*formatted), timeout);
}

std::string phone_query(std::string_view name, std::string_view phone) {
    std::string query(name);
    query += '=';
    query += phone;
    return query;
}

std::string one_field_object(std::string_view key, std::string_view value) {
    std::string body = "{";
    append_json_string(body, key);
    body += ':';
    append_json_string(body, value);
    body += '}';
    return body;
}

}  // namespace detail

using namespace detail;

namespace {

using ascii::iequals;
using ascii::lower;

struct ProtocolInfo {
    Protocol protocol;
    std::string_view name;
    std::string_view default_path;
    long max_code_seconds;  // 0: the engine's timeout (or wa_pair_code_timeout) as it is
};

constexpr ProtocolInfo kProtocols[] = {
    {Protocol::native, "native", "/v1/pair-code", 0},
    {Protocol::origin, "origin", "/devices/me/login-code", kWhatsmeowConnectionSeconds - kFreshConnectionAllowance},
    {Protocol::gowa, "gowa", "/app/login-with-code", kOpenConnectionSeconds},
    {Protocol::waha, "waha", "/api/default/auth/request-code", kOpenConnectionSeconds},
    {Protocol::wuzapi, "wuzapi", "/session/pairphone", kOpenConnectionSeconds},
    {Protocol::evolution, "evolution", "/instance/connect/default", kEvolutionCodeSeconds},
};

const ProtocolInfo &info(Protocol protocol) noexcept {
    for (const ProtocolInfo &p : kProtocols) {
        if (p.protocol == protocol) return p;
    }
    return kProtocols[0];
}

}  // namespace

std::optional<Protocol> parse_protocol(std::string_view name) noexcept {
    for (const ProtocolInfo &p : kProtocols) {
        if (p.name == name) return p.protocol;
    }
    return std::nullopt;
}

std::string_view protocol_name(Protocol protocol) noexcept {
    return info(protocol).name;
}

std::string_view default_path(Protocol protocol) noexcept {
    return info(protocol).default_path;
}

long max_code_seconds(Protocol protocol) noexcept {
    return info(protocol).max_code_seconds;
}

BackendRequest build_request(Protocol protocol, const RequestInput &in) {
    BackendRequest request;
    switch (protocol) {
    case Protocol::native:
        request = build_native_request(in);
        break;
    case Protocol::origin:
        request = build_origin_request(in);
        break;
    case Protocol::gowa:
        request = build_gowa_request(in);
        break;
    case Protocol::waha:
        request = build_waha_request(in);
        break;
    case Protocol::wuzapi:
        request = build_wuzapi_request(in);
        break;
    case Protocol::evolution:
        request = build_evolution_request(in);
        break;
    }
    // Common to all: the body's type, what we accept, the trace id. One vector, sized for
    // them and for the claims and operator headers the caller may add.
    std::vector<Header> headers;
    headers.reserve(request.headers.size() + 6);
    if (request.post) {
        headers.push_back(Header{"Content-Type", "application/json"});
    }
    headers.push_back(Header{"Accept", "application/json"});
    for (Header &h : request.headers) {
        headers.push_back(std::move(h));
    }
    if (!in.request_id.empty()) {
        headers.push_back(Header{"X-Request-ID", std::string(in.request_id)});
    }
    request.headers = std::move(headers);
    return request;
}

void apply_operator_headers(BackendRequest &request, const std::vector<Header> &headers) {
    for (const Header &h : headers) {
        auto &list = request.headers;
        for (auto it = list.begin(); it != list.end();) {
            it = iequals(it->name, h.name) ? list.erase(it) : it + 1;
        }
    }
    for (const Header &h : headers) {
        if (!h.value.empty()) request.headers.push_back(h);
    }
}

std::string append_query(std::string_view url, std::string_view query) {
    std::string result(url);
    if (query.empty()) return result;
    const std::size_t mark = url.find('?');
    if (mark == std::string_view::npos) {
        result += '?';
    } else if (mark + 1 != url.size() && url.back() != '&') {
        result += '&';
    }
    result += query;
    return result;
}

std::optional<std::string> format_pair_code(std::string_view code) noexcept {
    try {
        if (code.size() == 9) {
            if (code[4] != '-') return std::nullopt;
        } else if (code.size() != 8) {
            return std::nullopt;
        }
        const std::size_t second = code.size() - 4;  // 4 (ABCD1234) or 5 (ABCD-1234)
        char formatted[9];
        for (std::size_t i = 0; i < 4; ++i) {
            formatted[i] = code[i];
            formatted[5 + i] = code[second + i];
        }
        formatted[4] = '-';
        for (std::size_t i = 0; i < 9; ++i) {
            if (i != 4 && !kCodeSymbols.in[static_cast<unsigned char>(formatted[i])]) return std::nullopt;
        }
        return std::string(formatted, 9);
    } catch (...) {
        return std::nullopt;
    }
}

namespace {

PairCode map_protocol(Protocol protocol, long http_status, std::string_view body, std::string_view retry_after,
                      long default_timeout) {
    switch (protocol) {
    case Protocol::native:
        return map_native(http_status, body, retry_after, default_timeout);
    case Protocol::origin:
        return map_origin(http_status, body, retry_after, default_timeout);
    case Protocol::gowa:
        return map_gowa(http_status, body, retry_after, default_timeout);
    case Protocol::waha:
        return map_waha(http_status, body, retry_after, default_timeout);
    case Protocol::wuzapi:
        return map_wuzapi(http_status, body, retry_after, default_timeout);
    case Protocol::evolution:
        return map_evolution(http_status, body, retry_after, default_timeout);
    }
    return invalid_answer("unknown protocol");
}

}  // namespace

PairCode map_answer(Protocol protocol, long http_status, std::string_view body, std::string_view retry_after,
                    long default_timeout) noexcept {
    try {
        PairCode answer = map_protocol(protocol, http_status, body, retry_after, default_timeout);
        // Whatever the engine or the configuration says, never more than its code lives: the
        // client is told so, and the zone reuses the code no longer.
        const long cap = max_code_seconds(protocol);
        if (!answer.failure && cap > 0 && answer.timeout > cap) answer.timeout = cap;
        return answer;
    } catch (...) {
        return internal_failure();
    }
}

PairCode map_backend_answer(long http_status, std::string_view body, std::string_view retry_after,
                            long default_timeout) noexcept {
    return map_answer(Protocol::native, http_status, body, retry_after, default_timeout);
}

PairCode map_transport_failure(TransportFailure failure) noexcept {
    try {
        switch (failure) {
        case TransportFailure::unreachable:
            return fail(503, kUnavailable, Outcome::backend_unavailable, "unreachable");
        case TransportFailure::timeout:
            return timed_out("no answer in time");
        case TransportFailure::no_answer:
            return invalid_answer("the connection ended before a whole answer");
        case TransportFailure::tls:
            return invalid_answer("TLS with the backend failed");
        case TransportFailure::bad_answer:
            return invalid_answer("not a valid HTTP answer");
        case TransportFailure::too_large:
            return invalid_answer("the answer is larger than wa_pair_backend_buffer_size");
        case TransportFailure::internal:
            return internal_failure();
        }
        return invalid_answer("transport failure");
    } catch (...) {
        return internal_failure();
    }
}

}  // namespace wa_pair
