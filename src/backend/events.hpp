// The engines' events: each engine's webhook, as its code sends it, read into what it
// says about a device's pairing (policy.hpp's DeviceEvent), and each engine's signature
// scheme. docs/engines.md ("Events") cites the engine code every rule here follows;
// docs/protocol.md is the native protocol's events.
//
// Pure: no nginx types, no I/O, no globals. Bodies are untrusted: every reader is strict (a
// malformed body or a member of the wrong type is a 400 whose text is ours, never the body's),
// and an event the edge does not act on is `none`, read no further.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/hmac.hpp"
#include "edge/policy.hpp"
#include "backend/protocol.hpp"

namespace wa_pair {

// A device name in an event: the engine's device, session or instance, which the edge names by
// the token's device id. 1..255 bytes of printable ASCII (the zone keeps ids up to 255 bytes).
inline constexpr std::size_t kMaxEventDeviceBytes = 255;

// Evolution asks for a new code 1 s after each QR and its QRs last 45 s: a code it announces
// lives about 44 s from the event; the zone keeps it 40 s (docs/engines.md, "Events").
inline constexpr long kEvolutionEventCodeSeconds = 40;

struct PairingEvent {
    DeviceEvent effect = DeviceEvent::none;
    std::string_view name;   // the engine's event name, for logs (a literal of ours, never the body's)
    std::string device;      // effect != none: the engine's name for the device
    std::string code;        // new_code: "ABCD-1234"
    long code_seconds = 0;   // new_code: how long the code lives from now
    std::int64_t at_ms = 0;  // the engine's time of the event, ms since the epoch; 0: none given
};

struct EventParse {
    int status = 0;     // 0: read (effect may be none); 400: malformed
    std::string error;  // 400: what is wrong, in our words
    PairingEvent event;
};

// Reads one webhook body of `protocol`. `content_type` is the request's (wuzapi posts a form
// unless WEBHOOK_FORMAT=json). Never throws: memory exhaustion is a 400 too (nothing changes).
EventParse parse_event(Protocol protocol, std::string_view content_type, std::string_view body) noexcept;

// How an engine signs its webhooks: an HMAC of the raw body under the operator's secret, in a
// header of its own.
enum class SignatureEncoding : std::uint8_t {
    none,                 // the engine signs nothing (Evolution): a shared header instead
    sha256_prefixed_hex,  // "sha256=<64 hex digits>"  (origin, GoWA, native)
    sha256_hex,           // "<64 hex digits>"         (wuzapi)
    sha512_hex,           // "<128 hex digits>"        (WAHA Plus)
};

struct SignatureScheme {
    SignatureEncoding encoding = SignatureEncoding::none;
    std::string_view header;  // the header that carries it ("" for none)
};

SignatureScheme signature_scheme(Protocol protocol) noexcept;

// The header's value against the HMAC of `body` under `key`; the MACs are compared with
// CRYPTO_memcmp. Hex digits in either case. False for any other shape.
bool verify_signature(const SignatureScheme &scheme, const HmacKey &key, std::string_view header_value,
                      std::string_view body) noexcept;

// A presented shared-header value against the configured one, in constant time whatever their
// lengths (their SHA-256 digests are compared).
bool secret_equals(std::string_view expected, std::string_view presented) noexcept;

// An RFC 3339 date-time ("2026-03-25T22:15:17.123456789+07:00", "...Z") as ms since the epoch;
// none when the text is not one (or before 1970, or after 9999).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) noexcept;

}  // namespace wa_pair
