// wa_pair_session_start: for the engines whose WhatsApp session must run before they
// pair, how each says it does not, how it is started, how it says it is ready, and the
// exchange that goes from such an answer to a code in one client request. Pure decisions over
// the engine's answers and the time; the glue (ngx_wa_pair_session.cpp) makes each call on
// nginx's upstream and each wait on a timer (docs/engines.md, "Starting a session").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "backend/protocol.hpp"
#include "edge/policy.hpp"

namespace wa_pair {

// The engines with a session to start: gowa (its device), waha, wuzapi, evolution. native and
// origin have none (origin's LoginWithCode connects by itself).
bool session_start_supported(Protocol protocol) noexcept;

// The calls of an exchange.
enum class Step : std::uint8_t {
    pair,   // the pairing call itself
    start,  // the session's start (GoWA's device creation, WAHA's start, wuzapi's connect)
    ready,  // the engine's readiness (WAHA's session, wuzapi's QR, Evolution's state)
    read,   // Evolution: its QR state read again (the pairing call in state "connecting")
};
std::string_view step_name(Step step) noexcept;

// The request targets of the start and readiness calls, made from the pairing call's (the
// URI of wa_pair_backend, variables evaluated, its own query kept for every call): WAHA
// ".../api/{session}/auth/request-code" -> ".../api/sessions/{session}/start" and
// ".../api/sessions/{session}"; wuzapi ".../session/pairphone" -> ".../session/connect" and
// ".../session/qr"; GoWA ".../app/login-with-code" -> ".../devices" (no readiness call);
// Evolution ".../instance/connect/{instance}" -> (no start call: its pairing call starts a
// closed instance) ".../instance/connectionState/{instance}". `error` says why not when the
// path has another shape (shown by nginx -t, or logged).
struct SessionTargets {
    std::string start;  // "" when the protocol has no start call
    std::string ready;  // "" when the protocol has no readiness call
    std::string error;
};
SessionTargets session_targets(Protocol protocol, std::string_view pairing_target);

// nginx -t's check of wa_pair_session_start against wa_pair_backend's value as written: "" when
// its path has the shape the protocol's start needs, with every variable replaced by a
// placeholder segment (a value whose variables stand for the whole path, or that does not
// parse, is left to the request: wa_pair_backend's own checks name it), else why not.
std::string check_session_backend(Protocol protocol, std::string_view value);

// The request of a step other than pair and read (build_request's): method, body, and the
// protocol's headers; the caller adds the operator's. Throws only std::bad_alloc.
BackendRequest build_step_request(Protocol protocol, Step step, const RequestInput &in);

// ---------------------------------------------------------------- one start per device

// Whether a start may be made now; when not, when one may be made again.
struct StartClaim {
    bool granted = false;
    std::int64_t retry_at = 0;  // 0 when granted
};

// Whether a start may be made now, given the last one's time (0: none): at most one per
// `window_ms` (wa_pair_backend_timeout). When granted, `last` becomes `now`.
StartClaim claim_start(std::int64_t &last, std::int64_t now, std::int64_t window_ms) noexcept;

// The same record per device id for one worker, when the location has no zone. Bounded:
// records older than the window go first; when `max_devices` records are all inside the
// window, a start is refused until one lapses (a spray of device ids cannot make it grow).
class StartLog {
public:
    explicit StartLog(std::size_t max_devices = 4096) : max_(max_devices) {}
    // Throws only std::bad_alloc.
    StartClaim claim(std::string_view device_id, std::int64_t now, std::int64_t window_ms);
    std::size_t size() const noexcept { return last_.size(); }

private:
    void forget_before(std::int64_t t);
    std::size_t max_;
    std::unordered_map<std::string, std::int64_t> last_;
};

// ---------------------------------------------------------------- code lifetimes

// whatsmeow's login connection ends 160 s after it began (its QR channel: 60 + 5 x 20 s), and
// Baileys' with its default QR times too; a code made on it lives no longer.
inline constexpr std::int64_t kLoginConnectionMs = 160000;

// The seconds a code is answered for, once the engine's answer is mapped (`mapped`, capped by
// max_code_seconds). When the module knows since when the code's connection runs
// (`connection_age_ms` >= 0): origin opens it inside the pairing call, so its age is the call's
// duration; GoWA, WAHA and wuzapi after the module's own start, the time since that start was
// sent; then no more than what is left of its 160 s, and for the engines without a timeout
// of their own (GoWA, WAHA, wuzapi), `configured` (wa_pair_code_timeout) instead of the cap
// that assumed an older connection. 0: nothing left (the caller answers no code).
long code_seconds(Protocol protocol, long mapped, long configured, std::int64_t connection_age_ms) noexcept;

// ---------------------------------------------------------------- the exchange

// Evolution's QR state as a read answered it: what a later read is compared with.
struct QrMemory {
    bool has_code = false;  // its "code" (the QR string) was a string
    std::string code;
    std::string pairing;  // its pairingCode as XXXX-XXXX, "" when none (or not a code)
};

// ---------------------------------------------------------------- Evolution's connection

// What the edge knows of an Evolution instance's connection, from the close-branch answer
// that started it (below): when, for which number, and the pairing code the instance's QR
// state still held from the connection before. Evolution keeps asking codes for that number
// at each QR until the connection ends (QRCODE_LIMIT QRs, 30 by default, of 45 s each), and
// keeps the old code in its QR state until the new connection's first code replaces it; a
// request that reads the QR state meanwhile gets either, looking like any live answer.
// Fixed-size: the pairing zone keeps one per device.
struct EvolutionConnection {
    std::int64_t since = 0;                   // when the close branch answered; 0: nothing known
    PhoneHash number{};                       // the number the connection was started with
    std::array<char, kPairCodeSize> stale{};  // the previous connection's code, "" none
};

// How long a connection's number is held against another number's code: Evolution's default
// QR limit (30 QRs of 45 s). A connection started elsewhere (not by a pairing call through
// this edge) is unknown here.
inline constexpr std::int64_t kEvolutionConnectionMs = 30 * 45000;

// A code an Evolution instance answered (`pairing_code`, XXXX-XXXX) for a request of
// `number`, judged against the connection the edge knows: the previous connection's code is a
// 503 with Retry-After (the new connection's first code is a QR away), a code of a connection
// started for another number a 409 (no code for this number until that connection ends);
// nullopt when nothing known speaks against it.
std::optional<PairCode> judge_evolution_code(const EvolutionConnection &known, const PhoneHash &number,
                                             std::string_view pairing_code, std::int64_t now);

// The known connections per device id for one worker, when the location has no zone (a
// retry that another worker serves does not see them: docs/engines.md). Bounded: records
// older than kEvolutionConnectionMs go first, then the oldest.
class ConnectionLog {
public:
    explicit ConnectionLog(std::size_t max_devices = 4096) : max_(max_devices) {}
    std::optional<EvolutionConnection> find(std::string_view device_id, std::int64_t now) const;
    // Throws only std::bad_alloc.
    void remember(std::string_view device_id, const EvolutionConnection &connection);
    std::size_t size() const noexcept { return known_.size(); }

private:
    std::size_t max_;
    std::unordered_map<std::string, EvolutionConnection> known_;
};

struct ExchangeConfig {
    Protocol protocol = Protocol::native;
    bool session_start = false;       // wa_pair_session_start
    std::int64_t budget_ms = 100000;  // wa_pair_backend_timeout: the whole exchange
    long configured_timeout = 120;    // wa_pair_code_timeout
};

// What the glue does next.
struct Next {
    enum class Kind : std::uint8_t {
        call,    // make `step`'s call now
        wait,    // wait `delay_ms`, then call on_wake
        claim,   // may the device's session be started? answer with on_claim
        answer,  // the exchange is over: answer `answer` (a code or a failure)
    };
    Kind kind = Kind::answer;
    Step step = Step::pair;
    std::int64_t delay_ms = 0;
    PairCode answer;
};

// An exchange starts with the pairing call. Without wa_pair_session_start (or for native and
// origin) its answer is the client's, as map_answer says, with two exceptions that hold
// always: Evolution's close-state answer is never a code (below), and a code's seconds are
// what code_seconds says. With it, an answer that says the session is not started asks for a
// claim (at most one start per device per wa_pair_backend_timeout); a granted claim starts
// the session, the exchange waits for the engine's own readiness signal (polled every
// kReadyPollMs), then asks for the code; an answer that says the session is starting waits for
// readiness without a start. Everything within budget_ms of the first call: past it, 504.
//
// Evolution: a closed instance's pairing call starts its connection itself, waits 2 s and
// answers the instance's QR state, which connecting does not reset: it may be a fresh
// instance's (no code), the new connection's first code (when its first QR came within those
// 2 s), or the previous connection's code, possibly for another number. The three look the
// same; only the call's duration (>= 2 s) tells that the close branch answered. Such an
// answer is never a code: without a start it is a 503 with Retry-After; with one, the
// exchange reads the QR state again (only while the instance is "connecting", so that a read
// never starts it again) until its "code" differs from the one the close branch answered:
// Evolution sets a QR's pairing code before its "code", so the pairing code of a changed QR
// state was made by the new connection for this request's number.
class SessionExchange {
public:
    static constexpr std::int64_t kReadyPollMs = 500;
    // Evolution's close branch waits this long before it answers; its other branches answer
    // from memory at once.
    static constexpr std::int64_t kEvolutionCloseMs = 2000;
    // A pairing call made again after readiness, at most this many in all (WAHA's STARTING
    // race): the exchange never loops on an engine that keeps saying the same thing.
    static constexpr int kMaxPairCalls = 3;

    SessionExchange(const ExchangeConfig &config, std::int64_t now);

    // Evolution: the connection the edge knows for the device (from the zone or the worker)
    // and the request's number, before an answer is judged. Without it nothing is judged nor
    // remembered.
    void know_connection(const EvolutionConnection &known, const PhoneHash &number) noexcept;
    // The connection the last answer said it started (Evolution's close branch), for the
    // glue to remember; nullptr when none.
    const EvolutionConnection *started_connection() const noexcept {
        return to_remember_ ? &started_connection_ : nullptr;
    }

    Step step() const noexcept { return step_; }
    bool started() const noexcept { return started_; }  // a start was made (or claimed)
    std::int64_t deadline() const noexcept { return deadline_; }
    // What is left of the budget at `now` (0 when none).
    std::int64_t remaining(std::int64_t now) const noexcept;

    // The current step's request. Throws only std::bad_alloc.
    BackendRequest request(const RequestInput &in) const;

    // The current step's whole answer; `call_started` is when that call began. Never throws
    // (a failure to allocate is the answer's internal_failure).
    Next on_answer(long status, std::string_view body, std::string_view retry_after, std::int64_t call_started,
                   std::int64_t now) noexcept;
    Next on_claim(bool granted, std::int64_t retry_at, std::int64_t now) noexcept;
    Next on_wake(std::int64_t now) noexcept;

private:
    Next pair_answer(long status, std::string_view body, std::string_view retry_after, std::int64_t call_started,
                     std::int64_t now);
    Next start_answer(long status, std::string_view body, std::int64_t call_started, std::int64_t now);
    Next ready_answer(long status, std::string_view body, std::int64_t now);
    Next read_answer(long status, std::string_view body, std::int64_t call_started, std::int64_t now);
    Next final_code(PairCode answer, std::int64_t connection_age_ms) const;
    void connection_started(const QrMemory &qr, std::int64_t now) noexcept;
    Next wait_then(Step step, std::int64_t now);
    Next call(Step step);

    ExchangeConfig config_;
    std::int64_t deadline_;
    Step step_ = Step::pair;
    Step after_wait_ = Step::pair;
    int pair_calls_ = 1;
    bool started_ = false;
    std::int64_t fresh_since_ = -1;  // when the start call that made a fresh session began
    QrMemory qr_;                    // Evolution: the QR state the close branch answered
    std::int64_t now_ = 0;           // the time of the answer being read
    bool number_known_ = false;      // Evolution: know_connection was called
    PhoneHash number_{};
    EvolutionConnection known_;               // as the edge knew it before this exchange
    EvolutionConnection started_connection_;  // this exchange's close branch started it
    bool to_remember_ = false;                // the last answer started it
};

}  // namespace wa_pair
