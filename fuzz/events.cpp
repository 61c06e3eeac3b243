// Fuzz target: an engine's webhook (parse_event) for each events protocol, its signature
// (verify_signature), the times in it (parse_rfc3339_ms) and wa_pair_status's wait
// (parse_wait_seconds). Every byte of these is the engine's or a client's.
// Input: byte 0 picks the protocol, byte 1 the Content-Type, the rest is the body; the body
// is also read as a signature header value, an RFC 3339 time and a wait value.
#include <cstdint>
#include <string>

#include "check.hpp"
#include "backend/events.hpp"
#include "edge/pairing_status.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

constexpr Protocol kProtocols[] = {Protocol::native, Protocol::origin, Protocol::gowa,
                                   Protocol::waha,   Protocol::wuzapi, Protocol::evolution};
constexpr std::string_view kContentTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                              "Application/X-WWW-Form-Urlencoded; charset=utf-8", ""};

std::string hex(const unsigned char *p, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += kDigits[p[i] >> 4];
        out += kDigits[p[i] & 15];
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool printable_device(std::string_view s) {
    return printable(s, kMaxEventDeviceBytes);
}

void check_parse(Protocol protocol, std::string_view content_type, std::string_view body) {
    const EventParse p = parse_event(protocol, content_type, body);
    // Malformed is a 400 whose text is ours: it starts "Event" and is short printable ASCII.
    FUZZ_CHECK(p.status == 0 || p.status == 400, body);
    if (p.status == 400) {
        FUZZ_CHECK(printable(p.error, 200), p.error);
        FUZZ_CHECK(p.error.rfind("Event", 0) == 0, p.error);
        check_error_envelope(400, p.error);
        return;
    }
    FUZZ_CHECK(p.error.empty(), p.error);
    const PairingEvent &e = p.event;
    FUZZ_CHECK(e.at_ms >= 0, body);
    if (e.effect == DeviceEvent::none) {  // nothing to apply (a device it named was read strictly)
        FUZZ_CHECK(e.code.empty(), body);
        FUZZ_CHECK(e.device.empty() || printable_device(e.device), e.device);
        return;
    }
    FUZZ_CHECK(printable_device(e.device), e.device);
    FUZZ_CHECK(!e.name.empty() && printable(e.name, 64), body);
    if (e.effect == DeviceEvent::new_code) {
        FUZZ_CHECK(is_pair_code(e.code), e.code);
        FUZZ_CHECK(e.code_seconds >= 1 && e.code_seconds <= 86400, body);
    } else {
        FUZZ_CHECK(e.code.empty() && e.code_seconds == 0, body);
    }
    // The same bytes read the same way.
    const EventParse again = parse_event(protocol, content_type, body);
    FUZZ_CHECK(again.status == 0 && again.event.effect == e.effect && again.event.device == e.device &&
                   again.event.code == e.code && again.event.at_ms == e.at_ms,
               body);
}

void check_signature(Protocol protocol, std::string_view body) {
    static const auto key = HmacKey::prepare("fuzz events secret");
    const SignatureScheme scheme = signature_scheme(protocol);
    // Whatever the header says, a check ends; it holds only for the body's own MAC.
    const bool presented = verify_signature(scheme, *key, body, body);
    if (scheme.encoding == SignatureEncoding::none) {
        FUZZ_CHECK(!presented, body);
        return;
    }
    const HmacHash hash = scheme.encoding == SignatureEncoding::sha512_hex ? HmacHash::sha512 : HmacHash::sha256;
    unsigned char mac[64];
    const std::size_t n = key->sign(hash, body, mac);
    FUZZ_CHECK(n == (hash == HmacHash::sha512 ? 64u : 32u), body);
    const std::string prefix = scheme.encoding == SignatureEncoding::sha256_prefixed_hex ? "sha256=" : "";
    const std::string good = prefix + hex(mac, n);
    FUZZ_CHECK(verify_signature(scheme, *key, good, body), good);
    FUZZ_CHECK(!presented || lower(body) == good, body);
    mac[body.size() % n] ^= 1;
    FUZZ_CHECK(!verify_signature(scheme, *key, prefix + hex(mac, n), body), body);
    FUZZ_CHECK(!verify_signature(scheme, *key, good.substr(0, good.size() - 1), body), body);
}

void check_time(std::string_view text) {
    const std::optional<std::int64_t> ms = parse_rfc3339_ms(text);
    // None, or a time from 1970 to the end of 9999.
    FUZZ_CHECK(!ms || (*ms >= 0 && *ms < 253402300800000), text);
}

void check_wait(std::string_view text) {
    const std::optional<long> seconds = parse_wait_seconds(text);
    FUZZ_CHECK(!seconds || (*seconds >= 1 && *seconds <= kMaxWaitSeconds), text);
    if (seconds) {
        FUZZ_CHECK(std::to_string(*seconds) == text, text);  // a wait is written plainly
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const Protocol protocol = kProtocols[data[0] % 6];
    const std::string_view content_type = kContentTypes[data[1] % 4];
    const std::string_view body(reinterpret_cast<const char *>(data) + 2, size - 2);
    check_parse(protocol, content_type, body);
    check_signature(protocol, body);
    check_time(body);
    check_wait(body);
    return 0;
}
