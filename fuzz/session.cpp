// Fuzz target: the session exchange (SessionExchange, wa_pair_session_start and Evolution's
// known connection) driven by engine answers: each step's status, duration and body are the
// engine's bytes, and the engine decides every turn the exchange takes.
// Input: byte 0 picks the engine, the directive and what the edge knows of an Evolution
// connection; then answers, each 2 bytes of status (0..699), 2 bytes of duration (ms), then
// the body up to a NUL byte. Claims are granted and refused in turn.
#include <cstdint>
#include <cstring>
#include <string>

#include "check.hpp"
#include "backend/session.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

constexpr Protocol kEngines[] = {Protocol::gowa,      Protocol::waha,   Protocol::wuzapi,
                                 Protocol::evolution, Protocol::origin, Protocol::native};

PhoneHash number_of(std::uint8_t n) {
    PhoneHash h{};
    h.fill(n);
    return h;
}

struct Answer {
    long status = 0;
    std::int64_t ms = 0;
    std::string_view body;
};

// The next answer of the input, or false when it is used up.
bool take(std::string_view &in, Answer &out) {
    if (in.size() < 4) return false;
    const auto *p = reinterpret_cast<const unsigned char *>(in.data());
    out.status = ((p[0] << 8) | p[1]) % 700;
    out.ms = (p[2] << 8) | p[3];
    in.remove_prefix(4);
    const std::size_t end = in.find('\0');
    out.body = in.substr(0, end);
    in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
    return true;
}

void check_final(const PairCode &pc, Protocol protocol, const EvolutionConnection &known, bool other_number,
                 bool known_stale, std::int64_t now, bool started_one) {
    if (pc.failure) {
        check_engine_failure(pc);
        return;
    }
    FUZZ_CHECK(is_pair_code(pc.code), pc.code);
    FUZZ_CHECK(pc.timeout >= 1 && pc.timeout <= 86400, pc.code);
    if (max_code_seconds(protocol) > 0) FUZZ_CHECK(pc.timeout <= max_code_seconds(protocol), pc.code);
    if (protocol == Protocol::evolution) {
        // Never the previous connection's code; never another number's connection's code.
        if (known_stale && !started_one) FUZZ_CHECK(pc.code != std::string_view(known.stale.data()), pc.code);
        if (other_number && !started_one && now - known.since < kEvolutionConnectionMs) {
            FUZZ_CHECK(false, pc.code);
        }
    }
    check_success_envelope(pc.code, pc.timeout);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    const Protocol protocol = kEngines[(flags & 7) % 6];
    const bool start = (flags & 8) != 0;
    const bool known_stale = (flags & 16) != 0;
    const bool other_number = (flags & 32) != 0;
    const bool know = (flags & 64) != 0;
    std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);

    std::int64_t now = 1000000;
    EvolutionConnection known;
    if (know) {
        known.since = now - 5000;
        known.number = number_of(1);
        if (known_stale) std::memcpy(known.stale.data(), "PREV-2345", 10);
    }
    SessionExchange x(ExchangeConfig{protocol, start, 60000, 120}, now);
    if (know || (flags & 128) != 0) x.know_connection(known, number_of(other_number ? 2 : 1));

    bool started_one = false;
    Next next;
    next.kind = Next::Kind::call;
    // A call consumes an answer, a wait moves time on: within its budget (60 s, waits of
    // 500 ms) the exchange answers before the input ends or soon after.
    for (int turns = 0; turns < 1000; ++turns) {
        if (next.kind == Next::Kind::answer) {
            check_final(next.answer, protocol, known, other_number && know, known_stale && know, now, started_one);
            return 0;
        }
        if (next.kind == Next::Kind::wait) {
            FUZZ_CHECK(next.delay_ms > 0 && next.delay_ms <= 60000, "wait");
            now += next.delay_ms;
            next = x.on_wake(now);
            continue;
        }
        if (next.kind == Next::Kind::claim) {
            FUZZ_CHECK(start, "a claim without wa_pair_session_start");
            next = x.on_claim(turns % 2 == 0, now + 1000, now);
            continue;
        }
        Answer a;
        if (!take(in, a)) return 0;
        // a call
        const BackendRequest request = x.request(RequestInput{"dev-42", "6281234567890", "", ""});
        FUZZ_CHECK(request.query.size() < 200, request.query);
        const std::int64_t started = now;
        now += a.ms;
        next = x.on_answer(a.status, a.body, "", started, now);
        if (const EvolutionConnection *c = x.started_connection()) {
            FUZZ_CHECK(protocol == Protocol::evolution, "a connection started by another engine");
            FUZZ_CHECK(a.ms >= SessionExchange::kEvolutionCloseMs, "a connection started at once");
            FUZZ_CHECK(c->since == now, "since");
            FUZZ_CHECK(c->stale[kPairCodeSize - 1] == '\0', "stale");
            started_one = true;
        }
    }
    FUZZ_CHECK(false, "the exchange went on for 1000 turns");
}
