// The edge policy: coalescing, reuse and rate limits over fixed-size state (policy.hpp).
#include "edge/policy.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace wa_pair {

namespace {

constexpr std::int64_t kNever = INT64_MIN;

// ---------------------------------------------------------------- call log

std::uint32_t log_size(const CallLog &log) noexcept {
    return std::min(log.size, kMaxLimitCount);  // shared memory is trusted, but never indexed blindly
}

// Keeps the entries sorted: workers' clocks are read at slightly different moments.
void log_push(CallLog &log, std::int64_t t) noexcept {
    std::uint32_t n = log_size(log);
    if (n == kMaxLimitCount) {  // the oldest goes
        std::memmove(&log.at[0], &log.at[1], (n - 1) * sizeof(log.at[0]));
        n--;
    }
    std::uint32_t i = n;
    while (i > 0 && log.at[i - 1] > t) {
        log.at[i] = log.at[i - 1];
        i--;
    }
    log.at[i] = t;
    log.size = n + 1;
}

void log_remove(CallLog &log, std::int64_t t) noexcept {
    std::uint32_t n = log_size(log);
    for (std::uint32_t i = n; i-- > 0;) {
        if (log.at[i] == t) {
            std::memmove(&log.at[i], &log.at[i + 1], (n - 1 - i) * sizeof(log.at[0]));
            log.size = n - 1;
            return;
        }
    }
}

std::int64_t log_newest(const CallLog &log) noexcept {
    std::uint32_t n = log_size(log);
    return n == 0 ? kNever : log.at[n - 1];
}

// When the next call is within `limit`: fewer than `count` calls in the window ending then.
std::int64_t allowed_at(const CallLog &log, const RateLimit &limit, std::int64_t now) noexcept {
    std::uint32_t n = log_size(log);
    if (limit.count == 0 || n < limit.count) {
        return now;
    }
    // Of the last `count` calls, the oldest must have left the window.
    return std::max(now, log.at[n - limit.count] + limit.window_ms);
}

std::int64_t after_interval(const CallLog &log, std::int64_t interval, std::int64_t now) noexcept {
    std::int64_t newest = log_newest(log);
    return (interval == 0 || newest == kNever) ? now : std::max(now, newest + interval);
}

// ---------------------------------------------------------------- parsing

std::optional<std::int64_t> parse_number(std::string_view s) noexcept {
    if (s.empty() || s.size() > 9) {
        return std::nullopt;
    }
    std::int64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

// A period "[N]U", U one of s m h d. In a rate ("5/h") the count of units may be left out;
// an interval ("30s", "30") needs it, and may leave the unit out (seconds). In ms, 1s to 1d.
std::optional<std::int64_t> parse_period(std::string_view s, bool is_interval) noexcept {
    std::int64_t unit = 1000;
    bool has_unit = true;
    switch (s.empty() ? '\0' : s.back()) {
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = 60 * 1000;
        break;
    case 'h':
        unit = 3600 * 1000;
        break;
    case 'd':
        unit = 86400 * 1000;
        break;
    default:
        has_unit = false;
        break;
    }
    if (has_unit) {
        s.remove_suffix(1);
    } else if (!is_interval) {
        return std::nullopt;
    }
    const std::optional<std::int64_t> n = s.empty() && !is_interval ? std::optional<std::int64_t>(1) : parse_number(s);
    if (!n) {
        return std::nullopt;
    }
    const std::int64_t ms = *n * unit;
    if (ms < 1000 || ms > kMaxPeriodMs) {
        return std::nullopt;
    }
    return ms;
}

std::string quoted(std::string_view arg) {
    return "\"" + std::string(arg) + "\"";
}

}  // namespace

// ---------------------------------------------------------------- keys

std::optional<PhoneHash> hash_phone(const ZoneKey &key, std::string_view digits) noexcept {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    PhoneHash out{};
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char *>(digits.data()), digits.size(), mac, &len) == nullptr ||
        len < out.size()) {
        return std::nullopt;
    }
    std::memcpy(out.data(), mac, out.size());
    return out;
}

// ---------------------------------------------------------------- configuration

LimitsParse parse_limits(const std::string_view *args, std::size_t n) {
    LimitsParse result;
    bool seen_device = false;
    bool seen_phone = false;
    bool seen_interval = false;
    for (std::size_t i = 0; i < n; ++i) {
        std::string_view arg = args[i];
        if (arg == "off") {
            if (n != 1) {
                result.error = "\"off\" cannot be combined with other parameters";
                return result;
            }
            return result;
        }
        std::size_t eq = arg.find('=');
        std::string_view name = arg.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : arg.substr(eq + 1);
        bool *seen = name == "per_device"  ? &seen_device
                     : name == "per_phone" ? &seen_phone
                     : name == "interval"  ? &seen_interval
                                           : nullptr;
        if (seen == nullptr || eq == std::string_view::npos) {
            result.error = "invalid parameter " + quoted(arg);
            return result;
        }
        if (*seen) {
            result.error = "duplicate parameter " + quoted(arg);
            return result;
        }
        *seen = true;

        if (seen == &seen_interval) {
            const std::optional<std::int64_t> interval = parse_period(value, true);
            if (!interval) {
                result.error = "invalid interval " + quoted(arg) + " (must be 1s to 1d)";
                return result;
            }
            result.limits.interval_ms = *interval;
            continue;
        }
        RateLimit &limit = seen == &seen_device ? result.limits.per_device : result.limits.per_phone;
        std::size_t slash = value.find('/');
        const std::optional<std::int64_t> count =
            slash == std::string_view::npos ? std::nullopt : parse_number(value.substr(0, slash));
        if (!count || *count < 1 || *count > kMaxLimitCount) {
            result.error = "invalid count in " + quoted(arg) + " (must be 1 to " + std::to_string(kMaxLimitCount) +
                           " calls, as in " + std::string(name) + "=5/h)";
            return result;
        }
        const std::optional<std::int64_t> window = parse_period(value.substr(slash + 1), false);
        if (!window) {
            result.error = "invalid period in " + quoted(arg) + " (must be [N]s, m, h or d, from 1s to 1d)";
            return result;
        }
        limit.window_ms = *window;
        limit.count = static_cast<std::uint32_t>(*count);
    }
    return result;
}

// ---------------------------------------------------------------- decisions

namespace {

// The slot of `hash` among the numbers the device holds, else a free or lapsed one, else null.
NumberHeld *number_slot(DeviceState &device, const PhoneHash &hash, std::int64_t now) noexcept {
    NumberHeld *free = nullptr;
    for (NumberHeld &held : device.numbers) {
        if (held.until != 0 && held.phone == hash) {
            return &held;
        }
        if (free == nullptr && held.until <= now) {
            free = &held;
        }
    }
    if (free != nullptr) {
        *free = NumberHeld{};
    }
    return free;
}

std::int64_t first_lapse(const DeviceState &device) noexcept {
    std::int64_t first = device.numbers[0].until;
    for (const NumberHeld &held : device.numbers) {
        first = std::min(first, held.until);
    }
    return first;
}

}  // namespace

Decision decide(DeviceState &device, PhoneState &phone, const PhoneHash &hash, bool refresh, const PolicyConfig &config,
                std::uint64_t new_flight, std::int64_t now) noexcept {
    Decision d;

    if (device.linked_until != 0) {
        if (now < device.linked_until) {
            d.verdict = Verdict::linked;  // no call: for origin it would reconnect a paired session
            return d;
        }
        device.linked_until = 0;  // wa_pair_linked_ttl passed without news: ask the engine again
    }

    if (device.flight != 0) {
        if (now < device.flight_deadline) {
            if (device.flight_phone == hash) {
                // Even a refresh: the call in flight makes a code newer than the request.
                d.verdict = Verdict::wait;
                d.flight = device.flight;
                d.deadline = device.flight_deadline;
            } else {
                d.verdict = Verdict::conflict;
            }
            return d;
        }
        device.flight = 0;  // given up: its worker died or it outlived its timeout
    }

    if (config.reuse && !refresh && device.code[0] != '\0' && device.code_phone == hash) {
        std::int64_t left = device.code_expires - now;
        if (left > config.reuse_margin_ms && left >= 1000) {
            d.verdict = Verdict::reuse;
            std::memcpy(d.code, device.code, kPairCodeSize);
            d.code[kPairCodeSize - 1] = '\0';
            d.seconds = static_cast<long>(left / 1000);
            return d;
        }
    }

    // The latest time any limit allows the call, and which limit that is (the first on a tie).
    const Limits &limits = config.limits;
    std::int64_t next = now;
    Limit limit = Limit::none;
    const auto consider = [&](std::int64_t at, Limit which) {
        if (at > next) {
            next = at;
            limit = which;
        }
    };
    consider(std::max(device.cooldown_until, phone.cooldown_until), Limit::cooldown);
    consider(allowed_at(device.calls, limits.per_device, now), Limit::per_device);
    consider(allowed_at(phone.calls, limits.per_phone, now), Limit::per_phone);
    consider(std::max(after_interval(device.calls, limits.interval_ms, now),
                      after_interval(phone.calls, limits.interval_ms, now)),
             Limit::interval);
    if (limit != Limit::none) {
        d.verdict = Verdict::limited;
        d.limit = limit;
        d.seconds = seconds_until(next, now);
        return d;
    }

    NumberHeld *held = number_slot(device, hash, now);
    if (held == nullptr) {
        d.verdict = Verdict::limited;
        d.limit = Limit::numbers;
        d.seconds = seconds_until(first_lapse(device), now);
        return d;
    }

    device.flight = new_flight;
    device.flight_started = now;
    device.flight_deadline = now + config.flight_ms;
    device.flight_phone = hash;
    device.code[0] = '\0';
    device.code_expires = 0;
    log_push(device.calls, now);
    log_push(phone.calls, now);
    held->phone = hash;
    held->until = std::max(held->until, std::max(now, live_until(phone, limits)));
    d.verdict = Verdict::proceed;
    d.flight = new_flight;
    return d;
}

bool record_outcome(DeviceState &device, PhoneState *phone, std::uint64_t flight, const CallResult &outcome,
                    std::int64_t now) noexcept {
    if (outcome.status == 429 && outcome.seconds > 0) {
        std::int64_t until = now + static_cast<std::int64_t>(outcome.seconds) * 1000;
        device.cooldown_until = std::max(device.cooldown_until, until);
        if (phone != nullptr) {
            phone->cooldown_until = std::max(phone->cooldown_until, until);
        }
        if (flight != 0 && device.flight == flight) {
            for (NumberHeld &held : device.numbers) {
                if (held.until != 0 && held.phone == device.flight_phone) {
                    held.until = std::max(held.until, until);
                }
            }
        }
    }
    if (flight == 0 || device.flight != flight) {
        return false;
    }
    if (outcome.status == 503) {
        log_remove(device.calls, device.flight_started);
        if (phone != nullptr) {
            log_remove(phone->calls, device.flight_started);
        }
    }
    device.result_flight = flight;
    device.result = outcome;
    device.result.code[kPairCodeSize - 1] = '\0';
    if (outcome.status == 200 && outcome.code[0] != '\0' && device.linked_until <= now) {
        std::memcpy(device.code, outcome.code, kPairCodeSize);
        device.code[kPairCodeSize - 1] = '\0';
        device.code_phone = device.flight_phone;
        device.code_expires = now + static_cast<std::int64_t>(outcome.seconds) * 1000;
    }
    device.flight = 0;
    return true;
}

void abandon(DeviceState &device, std::uint64_t flight) noexcept {
    if (flight != 0 && device.flight == flight) {
        device.flight = 0;
    }
}

WaitState poll_flight(const DeviceState &device, std::uint64_t flight, std::int64_t deadline,
                      std::int64_t now) noexcept {
    if (flight != 0 && device.result_flight == flight) {
        return WaitState::answered;
    }
    if (now >= deadline) {
        return WaitState::timed_out;
    }
    return device.flight == flight ? WaitState::pending : WaitState::gone;
}

std::int64_t live_until(const DeviceState &device, const Limits &limits) noexcept {
    std::int64_t until = device.cooldown_until;
    if (device.flight != 0) {
        until = std::max(until, device.flight_deadline);
    }
    if (device.code[0] != '\0') {
        until = std::max(until, device.code_expires);
    }
    std::int64_t newest = log_newest(device.calls);
    if (newest != kNever) {
        until = std::max(until, newest + std::max(limits.per_device.window_ms, limits.interval_ms));
    }
    for (const NumberHeld &held : device.numbers) {  // the bound on its numbers holds as long
        until = std::max(until, held.until);
    }
    return std::max(until, device.linked_until);  // a linked device's entry answers its 409s
}

std::int64_t live_until(const PhoneState &phone, const Limits &limits) noexcept {
    std::int64_t until = phone.cooldown_until;
    std::int64_t newest = log_newest(phone.calls);
    if (newest != kNever) {
        until = std::max(until, newest + std::max(limits.per_phone.window_ms, limits.interval_ms));
    }
    return until;
}

long seconds_until(std::int64_t at, std::int64_t now) noexcept {
    if (at <= now) {
        return 1;
    }
    return static_cast<long>((at - now + 999) / 1000);
}

// ---------------------------------------------------------------- pairing completion

namespace {

bool drop_code(DeviceState &device) noexcept {
    const bool had = device.code[0] != '\0';
    device.code[0] = '\0';
    device.code_expires = 0;
    return had;
}

}  // namespace

EventApplied apply_event(DeviceState &device, const EventChange &change, std::int64_t now) noexcept {
    if (change.at_ms != 0 && change.at_ms < device.event_at) {
        return EventApplied::stale;
    }
    if (change.at_ms != 0) {
        device.event_at = change.at_ms;
    }
    const bool linked = device.linked_until > now;
    bool changed = false;
    switch (change.event) {
    case DeviceEvent::linked:
        changed = !linked || device.code[0] != '\0';
        device.linked_until = now + std::max<std::int64_t>(change.linked_ms, 1);
        drop_code(device);  // WhatsApp used it: it pairs nothing any more
        break;
    case DeviceEvent::pair_failed:
        changed = drop_code(device);  // a linked device stays linked: that pairing is over
        break;
    case DeviceEvent::logged_out:
        changed = linked;
        device.linked_until = 0;
        changed = drop_code(device) || changed;  // the engine starts anew: an old code is dead
        break;
    case DeviceEvent::not_linked:
        changed = linked;
        device.linked_until = 0;  // the live code stays: the engine shows a QR while it lives
        break;
    case DeviceEvent::new_code:
        // Only a device that asked for a code: that code's number is the one the engine pairs.
        if (linked || device.code[0] == '\0' || change.code[0] == '\0' || change.code_ms <= 0) {
            break;
        }
        changed =
            std::memcmp(device.code, change.code, kPairCodeSize) != 0 || device.code_expires != now + change.code_ms;
        std::memcpy(device.code, change.code, kPairCodeSize);
        device.code[kPairCodeSize - 1] = '\0';
        device.code_expires = now + change.code_ms;
        break;
    case DeviceEvent::none:
        break;
    }
    return changed ? EventApplied::changed : EventApplied::unchanged;
}

PairingStatus pairing_status(const DeviceState &device, std::int64_t now) noexcept {
    PairingStatus s;
    if (device.linked_until > now) {
        s.state = PairingState::linked;
        s.changes_at = device.linked_until;
        return s;
    }
    const std::int64_t left = device.code_expires - now;
    if (device.code[0] != '\0' && left >= 1000) {
        s.state = PairingState::pending;
        s.seconds = static_cast<long>(left / 1000);
        s.code_expires = device.code_expires;
        s.changes_at = device.code_expires - 999;  // then less than a second is left: none
    }
    return s;
}

bool status_changed(const PairingStatus &before, const PairingStatus &now) noexcept {
    return before.state != now.state || (now.state == PairingState::pending && before.code_expires != now.code_expires);
}

}  // namespace wa_pair
