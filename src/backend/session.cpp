// wa_pair_session_start's exchange, one start per device, and code lifetimes that count the
// time the module saw pass (session.hpp). The engines' own readings are in session_<engine>.cpp.
#include "backend/session_common.hpp"

#include <algorithm>
#include <cctype>

#include "backend/backend.hpp"

namespace wa_pair {

using namespace detail;

namespace detail {

std::optional<std::string_view> strip_suffix(std::string_view path, std::string_view tail) noexcept {
    if (path.size() < tail.size() || path.substr(path.size() - tail.size()) != tail) return std::nullopt;
    return path.substr(0, path.size() - tail.size());
}

}  // namespace detail

namespace {

struct Named {
    std::string_view prefix;
    std::string_view name;
};

// "/prefix/api/dev-42/auth/request-code" -> ("/prefix", "dev-42"): the segment before `tail`
// and what comes before it, which must end with `head`.
std::optional<Named> split_named(std::string_view path, std::string_view head, std::string_view tail) noexcept {
    const std::optional<std::string_view> before = strip_suffix(path, tail);
    if (!before) return std::nullopt;
    const std::size_t slash = before->rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view name = before->substr(slash + 1);
    if (name.empty()) return std::nullopt;
    const std::optional<std::string_view> prefix = strip_suffix(before->substr(0, slash + 1), head);
    if (!prefix) return std::nullopt;
    return Named{*prefix, name};
}

std::string with_query(std::string path, std::string_view query) {
    if (!query.empty()) {
        path += '?';
        path += query;
    }
    return path;
}

long ceil_seconds(std::int64_t ms) noexcept {
    return static_cast<long>((ms + 999) / 1000);
}

}  // namespace

bool session_start_supported(Protocol protocol) noexcept {
    switch (protocol) {
    case Protocol::gowa:
    case Protocol::waha:
    case Protocol::wuzapi:
    case Protocol::evolution:
        return true;
    case Protocol::native:
    case Protocol::origin:
        return false;
    }
    return false;
}

std::string_view step_name(Step step) noexcept {
    switch (step) {
    case Step::pair:
        return "pairing";
    case Step::start:
        return "start";
    case Step::ready:
        return "readiness";
    case Step::read:
        return "QR state";
    }
    return "pairing";
}

SessionTargets session_targets(Protocol protocol, std::string_view pairing_target) {
    SessionTargets t;
    const std::size_t mark = pairing_target.find('?');
    const std::string_view path = pairing_target.substr(0, mark);
    const std::string_view query =
        mark == std::string_view::npos ? std::string_view() : pairing_target.substr(mark + 1);
    switch (protocol) {
    case Protocol::waha: {
        const std::optional<Named> session = split_named(path, "/api/", "/auth/request-code");
        if (!session) {
            t.error = "its path must end with /api/{session}/auth/request-code";
            return t;
        }
        const std::string prefix(session->prefix);
        const std::string name(session->name);
        t.start = with_query(prefix + "/api/sessions/" + name + "/start", query);
        t.ready = with_query(prefix + "/api/sessions/" + name, query);
        return t;
    }
    case Protocol::wuzapi: {
        const std::optional<std::string_view> prefix = strip_suffix(path, "/session/pairphone");
        if (!prefix) {
            t.error = "its path must end with /session/pairphone";
            return t;
        }
        t.start = with_query(std::string(*prefix) + "/session/connect", query);
        t.ready = with_query(std::string(*prefix) + "/session/qr", query);
        return t;
    }
    case Protocol::gowa: {
        const std::optional<std::string_view> prefix = strip_suffix(path, "/app/login-with-code");
        if (!prefix) {
            t.error = "its path must end with /app/login-with-code";
            return t;
        }
        t.start = with_query(std::string(*prefix) + "/devices", query);
        return t;
    }
    case Protocol::evolution: {
        const std::optional<Named> instance = split_named(path, "/instance/connect/", "");
        if (!instance) {
            t.error = "its path must end with /instance/connect/{instance}";
            return t;
        }
        t.ready = with_query(std::string(instance->prefix) + "/instance/connectionState/" + std::string(instance->name),
                             query);
        return t;
    }
    case Protocol::native:
    case Protocol::origin:
        break;
    }
    t.error = "its engine has no session to start";
    return t;
}

std::string check_session_backend(Protocol protocol, std::string_view value) {
    std::string plain;
    plain.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '$') {
            plain += value[i];
            continue;
        }
        std::size_t end = i + 1;
        if (end < value.size() && value[end] == '{') {
            end = value.find('}', end);
            if (end == std::string_view::npos) return {};
            ++end;
        } else {
            while (end < value.size() && (std::isalnum(static_cast<unsigned char>(value[end])) || value[end] == '_'))
                ++end;
        }
        plain += 'x';
        i = end - 1;
    }
    const BackendUrl url = parse_backend_url(plain, default_path(protocol));
    if (!url.error.empty()) return {};
    return session_targets(protocol, url.uri).error;
}

BackendRequest build_step_request(Protocol protocol, Step step, const RequestInput &in) {
    if (step == Step::pair || step == Step::read) return build_request(protocol, in);
    BackendRequest request;
    switch (protocol) {
    case Protocol::waha:
        request = build_waha_step(step, in);
        break;
    case Protocol::wuzapi:
        request = build_wuzapi_step(step, in);
        break;
    case Protocol::gowa:
        request = build_gowa_step(step, in);
        break;
    case Protocol::evolution:
        request = build_evolution_step(step, in);
        break;
    case Protocol::native:
    case Protocol::origin:
        return build_request(protocol, in);
    }
    // What build_request adds for every protocol.
    std::vector<Header> headers;
    if (request.post) headers.push_back(Header{"Content-Type", "application/json"});
    headers.push_back(Header{"Accept", "application/json"});
    for (Header &h : request.headers) headers.push_back(std::move(h));
    if (!in.request_id.empty()) headers.push_back(Header{"X-Request-ID", std::string(in.request_id)});
    request.headers = std::move(headers);
    return request;
}

// ---------------------------------------------------------------- one start per device

StartClaim claim_start(std::int64_t &last, std::int64_t now, std::int64_t window_ms) noexcept {
    if (last != 0 && now < last + window_ms && now >= last) return StartClaim{false, last + window_ms};
    last = now;
    return StartClaim{true, 0};
}

void StartLog::forget_before(std::int64_t t) {
    for (auto it = last_.begin(); it != last_.end();) {
        it = it->second <= t ? last_.erase(it) : std::next(it);  // lapsed: last + window <= now
    }
}

StartClaim StartLog::claim(std::string_view device_id, std::int64_t now, std::int64_t window_ms) {
    const std::string key(device_id);
    auto it = last_.find(key);
    if (it == last_.end()) {
        if (last_.size() >= max_) forget_before(now - window_ms);
        if (last_.size() >= max_) {
            std::int64_t first = now + window_ms;
            for (const auto &entry : last_) first = std::min(first, entry.second + window_ms);
            return StartClaim{false, first};
        }
        it = last_.emplace(key, 0).first;
    }
    return claim_start(it->second, now, window_ms);
}

// ---------------------------------------------------------------- Evolution's connection

std::optional<PairCode> judge_evolution_code(const EvolutionConnection &known, const PhoneHash &number,
                                             std::string_view pairing_code, std::int64_t now) {
    if (known.since == 0 || now < known.since) return std::nullopt;
    if (known.stale[0] != '\0' && pairing_code == std::string_view(known.stale.data())) {
        return not_ready(
            "answered the code its instance's previous connection left in the QR state "
            "(its new connection has not made one yet): not answered",
            true);
    }
    if (now - known.since < kEvolutionConnectionMs && known.number != number) {
        return fail(409, "A pairing request for this device is already in progress", Outcome::already_logged_in,
                    "answered a code of the connection its instance started for another number: not answered");
    }
    return std::nullopt;
}

std::optional<EvolutionConnection> ConnectionLog::find(std::string_view device_id, std::int64_t now) const {
    const auto it = known_.find(std::string(device_id));
    if (it == known_.end() || now - it->second.since >= kEvolutionConnectionMs) return std::nullopt;
    return it->second;
}

void ConnectionLog::remember(std::string_view device_id, const EvolutionConnection &connection) {
    std::string key(device_id);
    if (known_.size() >= max_ && known_.find(key) == known_.end()) {
        // the oldest goes: a spray of device ids cannot make the log grow
        auto oldest = known_.begin();
        for (auto it = known_.begin(); it != known_.end(); ++it) {
            if (it->second.since < oldest->second.since) oldest = it;
        }
        known_.erase(oldest);
    }
    known_.insert_or_assign(std::move(key), connection);
}

// ---------------------------------------------------------------- code lifetimes

long code_seconds(Protocol protocol, long mapped, long configured, std::int64_t connection_age_ms) noexcept {
    if (connection_age_ms < 0) return mapped;
    const long left = ceil_seconds(kLoginConnectionMs) - ceil_seconds(connection_age_ms);
    if (left <= 0) return 0;
    switch (protocol) {
    case Protocol::origin:
        return std::min(mapped, left);
    case Protocol::gowa:
    case Protocol::waha:
    case Protocol::wuzapi:
        return std::min(configured, left);
    case Protocol::native:
    case Protocol::evolution:
        return mapped;
    }
    return mapped;
}

// ---------------------------------------------------------------- the exchange

SessionExchange::SessionExchange(const ExchangeConfig &config, std::int64_t now)
    : config_(config), deadline_(now + config.budget_ms) {
    if (!session_start_supported(config_.protocol)) config_.session_start = false;
}

std::int64_t SessionExchange::remaining(std::int64_t now) const noexcept {
    return now < deadline_ ? deadline_ - now : 0;
}

BackendRequest SessionExchange::request(const RequestInput &in) const {
    return build_step_request(config_.protocol, step_, in);
}

Next SessionExchange::call(Step step) {
    step_ = step;
    if (step == Step::pair) pair_calls_++;
    Next next;
    next.kind = Next::Kind::call;
    next.step = step;
    return next;
}

Next SessionExchange::wait_then(Step step, std::int64_t now) {
    if (remaining(now) <= kReadyPollMs) {
        Next next;
        next.answer = timed_out(started_ ? "did not make the session ready within wa_pair_backend_timeout "
                                           "of the request (started by this request)"
                                         : "did not make the session ready within wa_pair_backend_timeout "
                                           "of the request");
        return next;
    }
    after_wait_ = step;
    Next next;
    next.kind = Next::Kind::wait;
    next.step = step;
    next.delay_ms = kReadyPollMs;
    return next;
}

void SessionExchange::know_connection(const EvolutionConnection &known, const PhoneHash &number) noexcept {
    number_known_ = true;
    number_ = number;
    known_ = known;
}

void SessionExchange::connection_started(const QrMemory &qr, std::int64_t now) noexcept {
    if (!number_known_) return;
    started_connection_ = EvolutionConnection{};
    started_connection_.since = now;
    started_connection_.number = number_;
    to_remember_ = true;
    std::copy_n(qr.pairing.data(), std::min(qr.pairing.size(), kPairCodeSize - 1), started_connection_.stale.data());
}

Next SessionExchange::final_code(PairCode answer, std::int64_t connection_age_ms) const {
    if (!answer.failure && config_.protocol == Protocol::evolution && number_known_) {
        // The connection this exchange started, else the one the edge knew before it.
        const EvolutionConnection &known = started_connection_.since != 0 ? started_connection_ : known_;
        if (std::optional<PairCode> refused = judge_evolution_code(known, number_, answer.code, now_)) {
            answer = std::move(*refused);
        }
    }
    if (!answer.failure) {
        const long seconds =
            code_seconds(config_.protocol, answer.timeout, config_.configured_timeout, connection_age_ms);
        if (seconds <= 0) {
            answer = timed_out("answered a code whose connection had already ended");
        } else {
            answer.timeout = seconds;
        }
    }
    Next next;
    next.answer = std::move(answer);
    return next;
}

Next SessionExchange::on_answer(long status, std::string_view body, std::string_view retry_after,
                                std::int64_t call_started, std::int64_t now) noexcept {
    now_ = now;
    to_remember_ = false;
    try {
        switch (step_) {
        case Step::pair:
            return pair_answer(status, body, retry_after, call_started, now);
        case Step::start:
            return start_answer(status, body, call_started, now);
        case Step::ready:
            return ready_answer(status, body, now);
        case Step::read:
            return read_answer(status, body, call_started, now);
        }
    } catch (...) {}
    Next next;
    next.answer = internal_failure();
    return next;
}

Next SessionExchange::pair_answer(long status, std::string_view body, std::string_view retry_after,
                                  std::int64_t call_started, std::int64_t now) {
    const std::int64_t duration = now - call_started;
    PairReading reading;
    if (config_.session_start || config_.protocol == Protocol::evolution) {
        const json parsed = parse_json(body);
        switch (config_.protocol) {
        case Protocol::waha:
            reading = read_waha_pair(status, parsed);
            break;
        case Protocol::wuzapi:
            reading = read_wuzapi_pair(status, parsed);
            break;
        case Protocol::gowa:
            reading = read_gowa_pair(status, parsed);
            break;
        case Protocol::evolution:
            reading = read_evolution_pair(status, parsed, duration);
            break;
        case Protocol::native:
        case Protocol::origin:
            break;
        }
    }
    if (reading.says == SessionSays::started_by_call) {
        // Evolution's close branch: never a code, whatever it holds.
        connection_started(reading.qr, now);
        if (!config_.session_start) {
            return final_code(not_ready("answered a closed instance's QR state (2 s after starting its "
                                        "connection): its code may be the previous connection's, "
                                        "for another number; not answered",
                                        true),
                              -1);
        }
        started_ = true;
        qr_ = std::move(reading.qr);
        return wait_then(Step::ready, now);
    }
    if (config_.session_start && reading.says == SessionSays::not_started && !started_) {
        Next next;
        next.kind = Next::Kind::claim;
        next.step = Step::start;
        return next;
    }
    if (config_.session_start && reading.says == SessionSays::starting && pair_calls_ < kMaxPairCalls) {
        if (config_.protocol == Protocol::evolution) qr_ = std::move(reading.qr);
        return wait_then(Step::ready, now);
    }
    PairCode answer = map_answer(config_.protocol, status, body, retry_after, config_.configured_timeout);
    std::int64_t age = -1;
    if (config_.protocol == Protocol::origin) {
        age = duration;  // origin connects inside the call: the code is as old as it, at most
    } else if (fresh_since_ >= 0) {
        age = now - fresh_since_;
    }
    return final_code(std::move(answer), age);
}

Next SessionExchange::start_answer(long status, std::string_view body, std::int64_t call_started, std::int64_t now) {
    const json parsed = parse_json(body);
    StartReading reading;
    switch (config_.protocol) {
    case Protocol::waha:
        reading = read_waha_start(status, parsed);
        break;
    case Protocol::wuzapi:
        reading = read_wuzapi_start(status, parsed);
        break;
    case Protocol::gowa:
        reading = read_gowa_start(status, parsed);
        break;
    default:
        reading.failure = invalid_answer("has no session to start");
        break;
    }
    if (reading.result == Started::failed) return final_code(std::move(reading.failure), -1);
    if (reading.result == Started::fresh) fresh_since_ = call_started;
    // GoWA's device exists now: its pairing call connects it. The others say when ready.
    if (config_.protocol == Protocol::gowa) return call(Step::pair);
    return wait_then(Step::ready, now);
}

Next SessionExchange::ready_answer(long status, std::string_view body, std::int64_t now) {
    const json parsed = parse_json(body);
    ReadyReading reading;
    switch (config_.protocol) {
    case Protocol::waha:
        reading = read_waha_ready(status, parsed);
        break;
    case Protocol::wuzapi:
        reading = read_wuzapi_ready(status, parsed);
        break;
    case Protocol::evolution:
        reading = read_evolution_ready(status, parsed);
        break;
    default:
        reading.failure = invalid_answer("has no readiness to wait for");
        break;
    }
    switch (reading.result) {
    case Readiness::ready:
        if (pair_calls_ >= kMaxPairCalls) {
            return final_code(not_ready("still not ready to pair after its readiness signal", true), -1);
        }
        return call(Step::pair);
    case Readiness::read:
        return call(Step::read);
    case Readiness::not_yet:
        return wait_then(Step::ready, now);
    case Readiness::failed:
        break;
    }
    return final_code(std::move(reading.failure), -1);
}

Next SessionExchange::read_answer(long status, std::string_view body, std::int64_t call_started, std::int64_t now) {
    QrRead reading = read_evolution_qr(status, body, qr_, now - call_started, config_.configured_timeout);
    if (reading.restarted) connection_started(reading.qr, now);
    if (reading.not_yet) return wait_then(Step::ready, now);
    return final_code(std::move(reading.answer), -1);
}

Next SessionExchange::on_claim(bool granted, std::int64_t retry_at, std::int64_t now) noexcept {
    try {
        if (granted) {
            started_ = true;
            return call(Step::start);
        }
        PairCode answer = not_ready(
            "answered that the session is not started, and a start for this "
            "device was made less than wa_pair_backend_timeout ago (one start "
            "per device per wa_pair_backend_timeout)",
            true);
        // The start was made moments ago by another request: its session is likely ready in
        // seconds, and a retry that finds it still not started is refused again, without a
        // start, until the window ends.
        answer.retry_after = std::clamp<long>(ceil_seconds(retry_at - now), 1, answer.retry_after);
        answer.log_level = LogLevel::warn;
        Next next;
        next.answer = std::move(answer);
        return next;
    } catch (...) {}
    Next next;
    next.answer = internal_failure();
    return next;
}

Next SessionExchange::on_wake(std::int64_t now) noexcept {
    try {
        if (remaining(now) == 0) {
            Next next;
            next.answer = timed_out("did not make the session ready within wa_pair_backend_timeout of the request");
            return next;
        }
        return call(after_wait_);
    } catch (...) {}
    Next next;
    next.answer = internal_failure();
    return next;
}

}  // namespace wa_pair
