// The edge policy (docs/edge-policy.md): one backend call per device at a time, reuse of a live code,
// rate limits. WhatsApp silently invalidates a device's previous code when it is asked for a
// new one and answers rate-overlimit (risking a ban) when asked too often; people double-click,
// refresh and retry. These functions decide, for every worker at once, what a request gets.
//
// Pure: the state is fixed-size and trivially copyable so that it can live in nginx shared
// memory (no pointers, no std::string); all-zero bytes are the empty state. Time is passed in,
// in milliseconds of a clock every worker shares (nginx's monotonic ngx_current_msec).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wa_pair {

// ---------------------------------------------------------------- keys

inline constexpr std::size_t kZoneKeySize = 32;
using ZoneKey = std::array<std::uint8_t, kZoneKeySize>;
using PhoneHash = std::array<std::uint8_t, 16>;

// HMAC-SHA256 of the digits under the zone's random key, first 16 bytes. Equal numbers give
// equal hashes in one zone; without the key, no number can be read back or guessed by hashing
// every number. None only when OpenSSL fails: then there is no hash to use (a made-up one
// would let two numbers share a code).
std::optional<PhoneHash> hash_phone(const ZoneKey &key, std::string_view digits) noexcept;

// ---------------------------------------------------------------- configuration

// The policy keeps the time of each counted call, so a limit holds in every sliding window;
// hence a small maximum count (pairing a device is rare: 5 per hour is already generous).
inline constexpr std::uint32_t kMaxLimitCount = 16;
inline constexpr std::int64_t kMaxPeriodMs = 86400 * 1000LL;  // 1d

struct RateLimit {
    std::uint32_t count = 0;  // calls allowed per window; 0: no limit
    std::int64_t window_ms = 0;
};

struct Limits {
    RateLimit per_device;
    RateLimit per_phone;
    std::int64_t interval_ms = 0;  // least time between two calls for one device or one phone
    bool any() const noexcept { return per_device.count != 0 || per_phone.count != 0 || interval_ms != 0; }
};

struct LimitsParse {
    Limits limits;
    std::string error;  // "" when the arguments are valid; else a text for nginx -t
};

// The arguments of `wa_pair_limit`: "per_device=5/h", "per_phone=10/2h", "interval=30s"
// (each at most once, in any order), or the single word "off" (no limits). A count is 1..16;
// a period is [N]U with U one of s, m, h, d (a bare number means seconds for interval), from
// 1s to 1d.
LimitsParse parse_limits(const std::string_view *args, std::size_t n);

struct PolicyConfig {
    bool reuse = true;                     // answer a live code again
    std::int64_t reuse_margin_ms = 15000;  // ... while it has more than this left
    Limits limits;
    std::int64_t flight_ms = 61000;  // how long others wait for a call: its timeout + grace
};

// ---------------------------------------------------------------- state

inline constexpr std::size_t kPairCodeSize = 10;  // "ABCD-1234" and its NUL

// The times of the last kMaxLimitCount counted calls, oldest first.
struct CallLog {
    std::int64_t at[kMaxLimitCount];
    std::uint32_t size;
};

// A backend call's answer, as the requests that waited for it get it too.
struct CallResult {
    std::int32_t status;       // 200, or the failure's code
    std::int32_t seconds;      // 200: the code's timeout; 429: Retry-After
    char code[kPairCodeSize];  // 200: "ABCD-1234"
};

// A device may keep at most this many numbers' entries alive in a zone at once (a number's
// entry lives while its limits or a cool-down hold), so that one credential cannot fill a zone
// with entries the policy must keep. A device pairs with one number; 8 is generous.
inline constexpr std::size_t kMaxNumbersPerDevice = 8;

// A number this device called, and until when that number's entry matters to the policy.
struct NumberHeld {
    PhoneHash phone;
    std::int64_t until;  // 0: a free slot
};

struct DeviceState {
    std::uint64_t flight;  // the backend call in flight, 0: none
    std::int64_t flight_started;
    std::int64_t flight_deadline;  // after it, nobody waits for that call any more
    PhoneHash flight_phone;
    std::uint64_t result_flight;  // the call `result` answered
    CallResult result;
    char code[kPairCodeSize];  // the live code, "" when none
    PhoneHash code_phone;
    std::int64_t code_expires;
    std::int64_t cooldown_until;  // a backend 429
    CallLog calls;
    NumberHeld numbers[kMaxNumbersPerDevice];
    // Pairing completion, from the engine's events (events.hpp):
    std::int64_t linked_until;  // the device is paired until then; 0: not paired
    std::int64_t event_at;      // the engine's time of the newest event applied (ms since
                                // the epoch); 0: none with a time
};

struct PhoneState {
    std::int64_t cooldown_until;
    CallLog calls;
};

// ---------------------------------------------------------------- decisions

enum class Verdict {
    proceed,   // call the backend: this request is the one others wait for
    reuse,     // answer the live code with the seconds it has left
    wait,      // the same call is in flight: wait for its answer
    conflict,  // a call for another phone is in flight: 409
    limited,   // 429 with Retry-After
    linked,    // the engine said the device is paired: 409 "Device is already logged in"
};

// Which limit refused a request (Verdict::limited), for the operator's metrics. When several
// refuse, the one that holds longest (it sets Retry-After); on a tie, the first of this order.
enum class Limit : std::uint8_t {
    none,
    cooldown,    // the backend's 429 for the device or the phone
    per_device,  // wa_pair_limit per_device=
    per_phone,   // wa_pair_limit per_phone=
    interval,    // wa_pair_limit interval=, for the device or the phone
    numbers,     // the device holds kMaxNumbersPerDevice live numbers already
};

struct Decision {
    Verdict verdict = Verdict::proceed;
    Limit limit = Limit::none;      // limited: which limit
    std::uint64_t flight = 0;       // proceed: the new call; wait: the call waited for
    std::int64_t deadline = 0;      // wait: when waiting ends (then 504)
    char code[kPairCodeSize] = {};  // reuse
    long seconds = 0;               // reuse: seconds left; limited: Retry-After
};

// One request for (device, phone). Order: a device the engine said is paired (linked, until a
// logged-out event or its linked_until), a call in flight for the device (wait, or conflict
// for another phone; a call past its deadline is given up), then reuse (unless `refresh`),
// then cool-downs and limits, then the device's numbers (a new number while it already holds
// kMaxNumbersPerDevice live ones is limited until the first of them lapses), then proceed.
// Proceed marks call `new_flight` in flight, counts it for the device and the phone, holds the
// number for the device while the phone's state lives, and drops the device's live code:
// WhatsApp invalidates it as soon as it is asked for a new one. Only calls are counted:
// answers from the zone (reuse, wait) ask WhatsApp for nothing. A request that is not
// proceeding changes nothing a zone would have to keep: the caller may decide on empty
// states and store nothing.
Decision decide(DeviceState &device, PhoneState &phone, const PhoneHash &hash, bool refresh, const PolicyConfig &config,
                std::uint64_t new_flight, std::int64_t now) noexcept;

// Call `flight` answered `outcome`. Its waiters get the outcome; a code becomes the device's
// live code (expiring `seconds` from now) unless the device is linked meanwhile; a 429 starts a cool-down for the device and the
// phone (and the device holds the number as long); an unreachable backend (503) asked
// WhatsApp for nothing, so the call is not counted.
// `phone` may be null (its entry is gone). Returns false when the call was no longer the
// device's (given up at its deadline): then only the cool-down and the count apply.
bool record_outcome(DeviceState &device, PhoneState *phone, std::uint64_t flight, const CallResult &outcome,
                    std::int64_t now) noexcept;

// Call `flight` ended without an answer to share: its waiters decide again.
void abandon(DeviceState &device, std::uint64_t flight) noexcept;

enum class WaitState {
    pending,    // still in flight: look again later
    answered,   // device.result is the answer
    timed_out,  // the deadline passed: 504
    gone,       // the call ended without an answer (or its entry is gone): decide again
};

WaitState poll_flight(const DeviceState &device, std::uint64_t flight, std::int64_t deadline,
                      std::int64_t now) noexcept;

// Until when an entry still matters to the policy (a live code, a call in flight, a
// cool-down, calls inside a window). An entry evicted before is a loss worth a warning.
std::int64_t live_until(const DeviceState &device, const Limits &limits) noexcept;
std::int64_t live_until(const PhoneState &phone, const Limits &limits) noexcept;

// Seconds from `now` until `at`, rounded up, at least 1 (for Retry-After).
long seconds_until(std::int64_t at, std::int64_t now) noexcept;

// ---------------------------------------------------------------- pairing completion
//
// The engine's events (events.hpp) keep the state true after the engine answered a code: a
// device that paired is linked (its pairing requests answer 409 without a call), a failed
// pairing drops the live code, and an engine that replaces its code (Evolution) replaces the
// zone's, so that reuse hands out the code the engine will accept. Events never create state:
// they change a device the zone holds (a request made its entry), and nothing else.

// What an event says about a device's pairing, in the policy's terms.
enum class DeviceEvent : std::uint8_t {
    none,         // nothing the edge acts on
    linked,       // paired (pair success, connected): linked, the live code dropped
    pair_failed,  // the pairing failed or its connection ended: the live code dropped
    logged_out,   // unlinked by the phone or the engine: not linked, no live code
    not_linked,   // the engine shows the device unpaired (waiting for a QR or a code)
    new_code,     // the engine replaced its code for the number it pairs (Evolution)
};

struct EventChange {
    DeviceEvent event = DeviceEvent::none;
    char code[kPairCodeSize] = {};  // new_code: "ABCD-1234"
    std::int64_t code_ms = 0;       // new_code: how long the code lives from now
    std::int64_t linked_ms = 0;     // linked: how long the link is trusted without news
    std::int64_t at_ms = 0;         // the engine's time of the event (ms since the epoch); 0: none
};

enum class EventApplied {
    changed,    // the device's pairing state changed
    unchanged,  // applied, nothing to change (a pair error without a live code ...)
    stale,      // older than the newest event applied to the device: ignored
};

// Applies one event to a device the zone holds. An event with a time older than the newest
// one applied is stale (an engine's retry, or a replay): it changes nothing. A linked device
// stays linked whatever a pair error says (the pairing it reports is over) until a logged-out
// or not-linked event or linked_until. A new code replaces the live code only of a device that
// asked for one (its code is for the number that call named) and is not linked; its lifetime
// restarts.
EventApplied apply_event(DeviceState &device, const EventChange &change, std::int64_t now) noexcept;

enum class PairingState : std::uint8_t { none, pending, linked };

// A device's pairing as wa_pair_status shows it.
struct PairingStatus {
    PairingState state = PairingState::none;
    long seconds = 0;               // pending: whole seconds the live code has left (>= 1)
    std::int64_t code_expires = 0;  // pending: when it expires (a replaced code has another)
    std::int64_t changes_at = 0;    // when time alone changes the state; 0: never
};

PairingStatus pairing_status(const DeviceState &device, std::int64_t now) noexcept;

// The waiter's view changed: another state, or another live code.
bool status_changed(const PairingStatus &before, const PairingStatus &now) noexcept;

}  // namespace wa_pair
