// Internal to the session files (session*.cpp): what each engine's answers say about its
// session, per protocol (session_<engine>.cpp), read by the exchange (session.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "backend/protocol_common.hpp"
#include "backend/session.hpp"

namespace wa_pair::detail {

// What a pairing answer says about the engine's session.
enum class SessionSays {
    nothing,          // an answer like any other: mapped as it is
    not_started,      // start it (WAHA's 404, wuzapi's "No session", GoWA's DEVICE_NOT_FOUND)
    starting,         // it is getting ready: wait for readiness (WAHA's 422 STARTING,
                      // Evolution's QR state without a pairing code yet)
    started_by_call,  // Evolution's close branch: this very call started the connection
};

struct PairReading {
    SessionSays says = SessionSays::nothing;
    QrMemory qr;  // Evolution: the QR state this answer holds
};

// How a start call went.
enum class Started {
    fresh,    // the engine started the session now: its connection is as old as the call
    already,  // someone started it before (or created the device): go on, its age unknown
    failed,   // `failure` is the client's answer
};

struct StartReading {
    Started result = Started::failed;
    PairCode failure;
};

// What a readiness answer says.
enum class Readiness {
    ready,    // ask for the code now
    not_yet,  // wait and ask again
    read,     // Evolution: "connecting": read the QR state
    failed,   // `failure` is the client's answer
};

struct ReadyReading {
    Readiness result = Readiness::failed;
    PairCode failure;
};

// Evolution's QR state read in state "connecting": a code made after `before`, or not yet.
struct QrRead {
    bool fresh = false;  // `answer` is the code
    bool not_yet = false;
    bool restarted = false;  // the read was the close branch again: it started a connection
    QrMemory qr;             // restarted: the QR state it answered
    PairCode answer;         // fresh: the code; neither: the failure
};

// Each may throw std::bad_alloc only.
PairReading read_waha_pair(long status, const json &body);
PairReading read_wuzapi_pair(long status, const json &body);
PairReading read_gowa_pair(long status, const json &body);
PairReading read_evolution_pair(long status, const json &body, std::int64_t duration_ms);

BackendRequest build_waha_step(Step step, const RequestInput &in);
BackendRequest build_wuzapi_step(Step step, const RequestInput &in);
BackendRequest build_gowa_step(Step step, const RequestInput &in);
BackendRequest build_evolution_step(Step step, const RequestInput &in);

StartReading read_waha_start(long status, const json &body);
StartReading read_wuzapi_start(long status, const json &body);
StartReading read_gowa_start(long status, const json &body);

ReadyReading read_waha_ready(long status, const json &body);
ReadyReading read_wuzapi_ready(long status, const json &body);
ReadyReading read_evolution_ready(long status, const json &body);

QrRead read_evolution_qr(long status, std::string_view body, const QrMemory &before, std::int64_t duration_ms,
                         long configured_timeout);

// Evolution's QR state: an object without "instance" nor "error" that has one of its fields.
bool is_evolution_qr_state(const json &body);
QrMemory evolution_qr_memory(const json &body);

// The prefix of "<prefix><tail>" when `path` ends with `tail`, else nullopt.
std::optional<std::string_view> strip_suffix(std::string_view path, std::string_view tail) noexcept;

}  // namespace wa_pair::detail
