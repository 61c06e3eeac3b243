// The engines' events: each engine's webhook body read into a DeviceEvent, and each engine's
// signature scheme (events.hpp; the sources are in docs/engines.md, "Events").
#include "backend/events.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/ascii.hpp"
#include "common/form.hpp"
#include "common/json_parse.hpp"

namespace wa_pair {

namespace {

using json = nlohmann::json;

// Engines nest their payloads (a GoWA message, WAHA's engine data) deeper than a login body;
// the body itself is bounded by the location.
constexpr int kEventJsonDepth = 32;

constexpr std::string_view kOther = "(not acted on)";

EventParse malformed(std::string_view why) {
    EventParse out;
    out.status = 400;
    out.error.assign(why);
    return out;
}

EventParse ignored(std::string_view name) {
    EventParse out;
    out.event.name = name;
    return out;
}

const json *member(const json &object, const char *key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

bool printable_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxEventDeviceBytes) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// The device named by `value`, which must be a string of 1..255 printable bytes.
std::optional<std::string_view> take_device(const json *value) {
    if (value == nullptr || !value->is_string()) return std::nullopt;
    const std::string &s = value->get_ref<const std::string &>();
    if (!printable_name(s)) return std::nullopt;
    return s;
}

// An optional time: `value` absent is 0; else it must be an RFC 3339 string.
std::optional<std::int64_t> take_rfc3339(const json *value) {
    if (value == nullptr) return 0;
    if (!value->is_string()) return std::nullopt;
    return parse_rfc3339_ms(value->get_ref<const std::string &>());
}

// An optional time: `value` absent is 0; else a non-negative integer of ms since the epoch.
std::optional<std::int64_t> take_epoch_ms(const json *value) {
    if (value == nullptr) return 0;
    if (!value->is_number_unsigned()) return std::nullopt;
    const std::uint64_t ms = value->get<std::uint64_t>();
    if (ms > (std::uint64_t{1} << 53)) return std::nullopt;
    return static_cast<std::int64_t>(ms);
}

std::optional<json> parse_object(std::string_view body) {
    json out = parse_json(body, kEventJsonDepth);
    if (out.is_discarded() || !out.is_object()) return std::nullopt;
    return out;
}

constexpr std::string_view kNotObject = "Event body must be a JSON object";
constexpr std::string_view kBadDevice = "Event names no device (a string of 1 to 255 printable characters)";
constexpr std::string_view kBadTime = "Event time is malformed";

// ---------------------------------------------------------------- origin
// go-whatsapp-multi-session-rest-api: WebhookEvent{event_type, device_id, timestamp, data}.

EventParse parse_origin(std::string_view body) {
    const std::optional<json> parsed = parse_object(body);
    if (!parsed) return malformed(kNotObject);
    const json &j = *parsed;
    const json *type = member(j, "event_type");
    if (type == nullptr || !type->is_string()) return malformed("Event has no event_type string");
    const std::string &name = type->get_ref<const std::string &>();
    EventParse out;
    if (name == "connection.pair_success") {
        out.event = {DeviceEvent::linked, "connection.pair_success", {}, {}, 0, 0};
    } else if (name == "connection.connected") {
        out.event = {DeviceEvent::linked, "connection.connected", {}, {}, 0, 0};
    } else if (name == "connection.pair_error") {
        out.event = {DeviceEvent::pair_failed, "connection.pair_error", {}, {}, 0, 0};
    } else if (name == "connection.logged_out") {
        out.event = {DeviceEvent::logged_out, "connection.logged_out", {}, {}, 0, 0};
    } else {
        return ignored(kOther);
    }
    const std::optional<std::string_view> device = take_device(member(j, "device_id"));
    if (!device) return malformed(kBadDevice);
    out.event.device = *device;
    const std::optional<std::int64_t> at_ms = take_rfc3339(member(j, "timestamp"));
    if (!at_ms) return malformed(kBadTime);
    out.event.at_ms = *at_ms;
    const json *data = member(j, "data");
    if (data != nullptr && !data->is_object() && !data->is_null()) {
        return malformed("Event data must be an object");
    }
    if (out.event.effect == DeviceEvent::linked && data != nullptr) {
        // connection.connected says whether the client is logged in; false is no pairing.
        const json *logged_in = member(*data, "is_logged_in");
        if (logged_in != nullptr && !logged_in->is_boolean()) {
            return malformed("Event data.is_logged_in must be a boolean");
        }
        if (logged_in != nullptr && !logged_in->get<bool>()) {
            out.event.effect = DeviceEvent::none;
        }
    }
    return out;
}

// ---------------------------------------------------------------- GoWA
// {"event","device_id" (a JID),"session_id" (the POST /devices id),"payload"}: GoWA sends no
// pairing event; any of its events proves the session is logged in (WhatsApp delivers
// messages, receipts, presence and calls to a paired device only).

constexpr std::array<std::string_view, 16> kGowaEvents = {
    "message",         "message.reaction",   "message.revoked",   "message.edited",
    "message.ack",     "message.deleted",    "chat_presence",     "group.participants",
    "group.joined",    "label.edit",         "label.association", "newsletter.joined",
    "newsletter.left", "newsletter.message", "newsletter.mute",   "call.offer",
};

EventParse parse_gowa(std::string_view body) {
    const std::optional<json> parsed = parse_object(body);
    if (!parsed) return malformed(kNotObject);
    const json &j = *parsed;
    const json *type = member(j, "event");
    if (type == nullptr || !type->is_string()) return malformed("Event has no event string");
    const std::string &name = type->get_ref<const std::string &>();
    const auto known = std::find(kGowaEvents.begin(), kGowaEvents.end(), name);
    if (known == kGowaEvents.end()) return ignored(kOther);
    const json *session = member(j, "session_id");
    if (session == nullptr) return ignored(*known);  // a JID GoWA could not map to a session
    EventParse out;
    out.event.effect = DeviceEvent::linked;
    out.event.name = *known;
    const std::optional<std::string_view> device = take_device(session);
    if (!device) return malformed(kBadDevice);
    out.event.device = *device;
    return out;
}

// ---------------------------------------------------------------- WAHA
// {"event":"session.status","session","payload":{"status"},"timestamp"? (ms)}.

EventParse parse_waha(std::string_view body) {
    const std::optional<json> parsed = parse_object(body);
    if (!parsed) return malformed(kNotObject);
    const json &j = *parsed;
    const json *type = member(j, "event");
    if (type == nullptr || !type->is_string()) return malformed("Event has no event string");
    if (type->get_ref<const std::string &>() != "session.status") return ignored(kOther);
    const json *payload = member(j, "payload");
    const json *status = payload != nullptr ? member(*payload, "status") : nullptr;
    if (status == nullptr || !status->is_string()) {
        return malformed("Event payload.status must be a string");
    }
    const std::string &s = status->get_ref<const std::string &>();
    EventParse out;
    out.event.name = "session.status";
    if (s == "WORKING") {
        out.event.effect = DeviceEvent::linked;
    } else if (s == "FAILED") {
        out.event.effect = DeviceEvent::logged_out;  // logged out by WhatsApp, or its start failed
    } else if (s == "STOPPED") {
        out.event.effect = DeviceEvent::pair_failed;  // its connection is gone, and its code
    } else if (s == "SCAN_QR_CODE") {
        out.event.effect = DeviceEvent::not_linked;  // waiting to be paired (every new QR)
    } else {
        return ignored("session.status");  // STARTING, or a status this edge does not know
    }
    const std::optional<std::string_view> device = take_device(member(j, "session"));
    if (!device) return malformed(kBadDevice);
    out.event.device = *device;
    const std::optional<std::int64_t> at_ms = take_epoch_ms(member(j, "timestamp"));
    if (!at_ms) return malformed(kBadTime);
    out.event.at_ms = *at_ms;
    return out;
}

// ---------------------------------------------------------------- wuzapi
// A form (jsonData=<the event as JSON>&instanceName=..&userID=..) or, with WEBHOOK_FORMAT=json,
// that JSON itself with instanceName and userID added. The event's "type" names it.

// The fields of an application/x-www-form-urlencoded body; none when one is malformed or a
// name comes twice (which one would count is a guess).
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t start = 0;
    while (start <= body.size()) {
        std::size_t end = body.find('&', start);
        if (end == std::string_view::npos) end = body.size();
        const std::string_view field = body.substr(start, end - start);
        if (!field.empty()) {
            const std::size_t eq = field.find('=');
            std::optional<std::string> name = form_decode(field.substr(0, eq));
            std::optional<std::string> value =
                eq == std::string_view::npos ? std::optional<std::string>("") : form_decode(field.substr(eq + 1));
            if (!name || !value) return std::nullopt;
            for (const auto &f : fields) {
                if (f.first == *name) return std::nullopt;
            }
            fields.emplace_back(std::move(*name), std::move(*value));
        }
        start = end + 1;
    }
    return fields;
}

bool is_form(std::string_view content_type) {
    constexpr std::string_view kForm = "application/x-www-form-urlencoded";
    while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
        content_type.remove_prefix(1);
    }
    if (content_type.size() < kForm.size()) return false;
    for (std::size_t i = 0; i < kForm.size(); ++i) {
        char c = content_type[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != kForm[i]) return false;
    }
    return content_type.size() == kForm.size() || content_type[kForm.size()] == ';' ||
           content_type[kForm.size()] == ' ' || content_type[kForm.size()] == '\t';
}

EventParse parse_wuzapi(std::string_view content_type, std::string_view body) {
    std::optional<json> parsed;
    std::string form_instance;
    bool instance_in_form = false;
    if (is_form(content_type)) {
        const std::optional<std::vector<std::pair<std::string, std::string>>> fields = parse_form(body);
        if (!fields) return malformed("Event body is not a valid form");
        const std::string *data = nullptr;
        for (const auto &f : *fields) {
            if (f.first == "jsonData") data = &f.second;
            if (f.first == "instanceName") {
                form_instance = f.second;
                instance_in_form = true;
            }
        }
        if (data == nullptr) return malformed("Event form has no jsonData");
        parsed = parse_object(*data);
        if (!parsed) return malformed("Event jsonData must be a JSON object");
    } else {
        parsed = parse_object(body);
        if (!parsed) return malformed(kNotObject);
    }
    const json &j = *parsed;
    const json *type = member(j, "type");
    if (type == nullptr || !type->is_string()) return malformed("Event has no type string");
    const std::string &name = type->get_ref<const std::string &>();
    EventParse out;
    if (name == "PairSuccess") {
        out.event = {DeviceEvent::linked, "PairSuccess", {}, {}, 0, 0};
    } else if (name == "Connected") {
        out.event = {DeviceEvent::linked, "Connected", {}, {}, 0, 0};
    } else if (name == "PairError") {
        out.event = {DeviceEvent::pair_failed, "PairError", {}, {}, 0, 0};
    } else if (name == "QRTimeout") {
        out.event = {DeviceEvent::pair_failed, "QRTimeout", {}, {}, 0, 0};  // its client is gone
    } else if (name == "LoggedOut") {
        out.event = {DeviceEvent::logged_out, "LoggedOut", {}, {}, 0, 0};
    } else {
        return ignored(kOther);
    }
    if (instance_in_form) {
        if (!printable_name(form_instance)) return malformed(kBadDevice);
        out.event.device = std::move(form_instance);
    } else if (const std::optional<std::string_view> device = take_device(member(j, "instanceName"))) {
        out.event.device = *device;
    } else {
        return malformed(kBadDevice);
    }
    return out;
}

// ---------------------------------------------------------------- Evolution API
// {"event":"qrcode.updated"|"connection.update","instance","data":{..},"date_time",...}.

EventParse parse_evolution(std::string_view body) {
    const std::optional<json> parsed = parse_object(body);
    if (!parsed) return malformed(kNotObject);
    const json &j = *parsed;
    const json *type = member(j, "event");
    if (type == nullptr || !type->is_string()) return malformed("Event has no event string");
    const std::string &name = type->get_ref<const std::string &>();
    if (name != "qrcode.updated" && name != "connection.update") return ignored(kOther);
    const json *data = member(j, "data");
    if (data == nullptr || !data->is_object()) return malformed("Event data must be an object");
    EventParse out;
    if (name == "qrcode.updated") {
        out.event.name = "qrcode.updated";
        const json *qrcode = member(*data, "qrcode");
        if (qrcode != nullptr) {
            if (!qrcode->is_object()) return malformed("Event data.qrcode must be an object");
            const json *code = member(*qrcode, "pairingCode");
            if (code == nullptr || code->is_null()) return ignored("qrcode.updated");  // no number
            if (!code->is_string()) return malformed("Event pairingCode must be a string");
            std::optional<std::string> formatted = format_pair_code(code->get_ref<const std::string &>());
            if (!formatted) return malformed("Event pairingCode is not a pairing code");
            out.event.effect = DeviceEvent::new_code;
            out.event.code = std::move(*formatted);
            out.event.code_seconds = kEvolutionEventCodeSeconds;
        } else if (member(*data, "statusCode") != nullptr) {
            out.event.effect = DeviceEvent::pair_failed;  // "QR code limit reached": it gave up
        } else {
            return ignored("qrcode.updated");
        }
    } else {
        out.event.name = "connection.update";
        const json *state = member(*data, "state");
        if (state == nullptr || !state->is_string()) return malformed("Event data.state must be a string");
        const std::string &s = state->get_ref<const std::string &>();
        if (s == "open") {
            out.event.effect = DeviceEvent::linked;
        } else if (s == "close") {
            out.event.effect = DeviceEvent::logged_out;  // sent when it will not reconnect
        } else if (s == "refused") {
            out.event.effect = DeviceEvent::pair_failed;  // the QR limit ended the connection
        } else {
            return ignored("connection.update");  // connecting
        }
    }
    const std::optional<std::string_view> device = take_device(member(j, "instance"));
    if (!device) return malformed(kBadDevice);
    out.event.device = *device;
    const std::optional<std::int64_t> at_ms = take_rfc3339(member(j, "date_time"));
    if (!at_ms) return malformed(kBadTime);
    out.event.at_ms = *at_ms;
    return out;
}

// ---------------------------------------------------------------- native (docs/protocol.md)
// {"event":"pair_success"|"connected"|"pair_error"|"logged_out"|"code","device_id",
//  "timestamp"? (ms),"pair_code"+"timeout" (code)}

EventParse parse_native(std::string_view body) {
    const std::optional<json> parsed = parse_object(body);
    if (!parsed) return malformed(kNotObject);
    const json &j = *parsed;
    const json *type = member(j, "event");
    if (type == nullptr || !type->is_string()) return malformed("Event has no event string");
    const std::string &name = type->get_ref<const std::string &>();
    EventParse out;
    if (name == "pair_success") {
        out.event = {DeviceEvent::linked, "pair_success", {}, {}, 0, 0};
    } else if (name == "connected") {
        out.event = {DeviceEvent::linked, "connected", {}, {}, 0, 0};
    } else if (name == "pair_error") {
        out.event = {DeviceEvent::pair_failed, "pair_error", {}, {}, 0, 0};
    } else if (name == "logged_out") {
        out.event = {DeviceEvent::logged_out, "logged_out", {}, {}, 0, 0};
    } else if (name == "code") {
        out.event = {DeviceEvent::new_code, "code", {}, {}, 0, 0};
    } else {
        return ignored(kOther);
    }
    const std::optional<std::string_view> device = take_device(member(j, "device_id"));
    if (!device) return malformed(kBadDevice);
    out.event.device = *device;
    const std::optional<std::int64_t> at_ms = take_epoch_ms(member(j, "timestamp"));
    if (!at_ms) return malformed(kBadTime);
    out.event.at_ms = *at_ms;
    if (out.event.effect == DeviceEvent::new_code) {
        const json *code = member(j, "pair_code");
        if (code == nullptr || !code->is_string()) return malformed("Event pair_code must be a string");
        std::optional<std::string> formatted = format_pair_code(code->get_ref<const std::string &>());
        if (!formatted) return malformed("Event pair_code is not a pairing code");
        out.event.code = std::move(*formatted);
        const json *timeout = member(j, "timeout");
        if (timeout == nullptr || !timeout->is_number_unsigned() || timeout->get<std::uint64_t>() < 1 ||
            timeout->get<std::uint64_t>() > 86400) {
            return malformed("Event timeout must be 1 to 86400 seconds");
        }
        out.event.code_seconds = static_cast<long>(timeout->get<std::uint64_t>());
    }
    return out;
}

// ---------------------------------------------------------------- time

// The `n` decimal digits at `at`.
std::optional<int> digits(std::string_view s, std::size_t at, std::size_t n) {
    if (at + n > s.size()) return std::nullopt;
    int out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        out = out * 10 + (s[i] - '0');
    }
    return out;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

// `n` bytes (at most 64) written as 2n hex digits.
std::optional<std::array<unsigned char, 64>> decode_hex(std::string_view hex, std::size_t n) {
    if (n > 64 || hex.size() != 2 * n) return std::nullopt;
    std::array<unsigned char, 64> out{};
    for (std::size_t i = 0; i < n; ++i) {
        const int hi = ascii::hex_value(hex[2 * i]);
        const int lo = ascii::hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return out;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) noexcept {
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':') {
        return std::nullopt;
    }
    const std::optional<int> y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2), h = digits(s, 11, 2),
                             mi = digits(s, 14, 2), sec = digits(s, 17, 2);
    if (!y || !mo || !d || !h || !mi || !sec) {
        return std::nullopt;
    }
    const int year = *y, month = *mo, day = *d, hour = *h, minute = *mi, second = *sec;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::size_t at = 19;
    std::int64_t fraction_ms = 0;
    if (at < s.size() && s[at] == '.') {
        ++at;
        std::size_t n = 0;
        std::int64_t scale = 100;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
            if (n < 3) {
                fraction_ms += (s[at] - '0') * scale;
                scale /= 10;
            }
            ++at;
            ++n;
        }
        if (n == 0 || n > 9) return std::nullopt;
    }
    std::int64_t offset_s = 0;
    if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
        ++at;
    } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
        const std::optional<int> oh = digits(s, at + 1, 2);
        const std::optional<int> om = digits(s, at + 4, 2);
        if (!oh || at + 3 >= s.size() || s[at + 3] != ':' || !om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset_s = (*oh * 3600 + *om * 60) * (s[at] == '+' ? 1 : -1);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != s.size()) return std::nullopt;
    const std::int64_t seconds =
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_s;
    if (seconds < 0) return std::nullopt;
    return seconds * 1000 + fraction_ms;
}

EventParse parse_event(Protocol protocol, std::string_view content_type, std::string_view body) noexcept {
    try {
        switch (protocol) {
        case Protocol::origin:
            return parse_origin(body);
        case Protocol::gowa:
            return parse_gowa(body);
        case Protocol::waha:
            return parse_waha(body);
        case Protocol::wuzapi:
            return parse_wuzapi(content_type, body);
        case Protocol::evolution:
            return parse_evolution(body);
        case Protocol::native:
            return parse_native(body);
        }
        return malformed("Unknown protocol");
    } catch (...) {  // memory: nothing is applied
        EventParse out;
        out.status = 500;
        return out;
    }
}

SignatureScheme signature_scheme(Protocol protocol) noexcept {
    switch (protocol) {
    case Protocol::origin:
        return {SignatureEncoding::sha256_prefixed_hex, "X-Webhook-Signature"};
    case Protocol::native:
        return {SignatureEncoding::sha256_prefixed_hex, "X-Webhook-Signature"};
    case Protocol::gowa:
        return {SignatureEncoding::sha256_prefixed_hex, "X-Hub-Signature-256"};
    case Protocol::waha:
        return {SignatureEncoding::sha512_hex, "X-Webhook-Hmac"};
    case Protocol::wuzapi:
        return {SignatureEncoding::sha256_hex, "x-hmac-signature"};
    case Protocol::evolution:
        return {SignatureEncoding::none, {}};
    }
    return {};
}

bool verify_signature(const SignatureScheme &scheme, const HmacKey &key, std::string_view value,
                      std::string_view body) noexcept {
    HmacHash hash = HmacHash::sha256;
    std::size_t size = 32;
    switch (scheme.encoding) {
    case SignatureEncoding::sha256_prefixed_hex:
        if (value.substr(0, 7) != "sha256=") return false;
        value.remove_prefix(7);
        break;
    case SignatureEncoding::sha256_hex:
        break;
    case SignatureEncoding::sha512_hex:
        hash = HmacHash::sha512;
        size = 64;
        break;
    case SignatureEncoding::none:
        return false;
    }
    const std::optional<std::array<unsigned char, 64>> presented = decode_hex(value, size);
    if (!presented) return false;
    unsigned char mac[64];
    if (key.sign(hash, body, mac) != size) return false;
    return CRYPTO_memcmp(presented->data(), mac, size) == 0;
}

bool secret_equals(std::string_view expected, std::string_view presented) noexcept {
    unsigned char a[EVP_MAX_MD_SIZE];
    unsigned char b[EVP_MAX_MD_SIZE];
    unsigned int na = 0;
    unsigned int nb = 0;
    if (EVP_Digest(expected.data(), expected.size(), a, &na, EVP_sha256(), nullptr) != 1 ||
        EVP_Digest(presented.data(), presented.size(), b, &nb, EVP_sha256(), nullptr) != 1 || na != 32 || nb != 32) {
        return false;
    }
    return CRYPTO_memcmp(a, b, 32) == 0;
}

}  // namespace wa_pair
