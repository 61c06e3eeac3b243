// The engines' events (events.hpp, docs/engines.md "Events"): each engine's bodies as its code
// sends them, what they mean, every malformed shape, the signature schemes against published
// vectors, and a fuzz-minded sweep (mutations, truncations, wrong types, oversized bodies):
// never a crash, only 0 or 400, our own texts, and a device and code that are safe to use.
#include <gtest/gtest.h>

#include <openssl/hmac.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "backend/events.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

struct EventRow {
    const char *name;
    Protocol protocol;
    const char *content_type;
    std::string body;
    int status;          // 0 or 400
    DeviceEvent effect;  // when status is 0
    const char *device;  // "" when none
    const char *code;    // new_code
    long code_seconds;
    std::int64_t at_ms;
};

void PrintTo(const EventRow &row, std::ostream *os) {
    *os << row.name;
}

class Events : public testing::TestWithParam<EventRow> {};

TEST_P(Events, AreReadAsTheEngineMeansThem) {
    const EventRow &row = GetParam();
    const EventParse p = parse_event(row.protocol, row.content_type, row.body);
    ASSERT_EQ(p.status, row.status) << p.error;
    if (row.status != 0) {
        EXPECT_EQ(p.error.rfind("Event ", 0), 0u) << p.error;
        return;
    }
    EXPECT_EQ(p.event.effect, row.effect);
    EXPECT_EQ(p.event.device, row.device);
    EXPECT_EQ(p.event.code, row.code);
    EXPECT_EQ(p.event.code_seconds, row.code_seconds);
    EXPECT_EQ(p.event.at_ms, row.at_ms);
    EXPECT_FALSE(p.event.name.empty());
}

constexpr const char *kJson = "application/json";
constexpr const char *kForm = "application/x-www-form-urlencoded";
using E = DeviceEvent;

// 2026-03-25T15:15:17.123Z
constexpr std::int64_t kOriginAt = 1774451717123;
const std::string kDevice255(kMaxEventDeviceBytes, 'd');

const EventRow kRows[] = {
    // origin: internal/webhook/types.go WebhookEvent, pkg/whatsapp/whatsapp.go's dispatches
    {"origin_pair_success", Protocol::origin, kJson,
     R"({"event_type":"connection.pair_success","device_id":"dev-42","timestamp":"2026-03-25T22:15:17.123456789+07:00","data":{"business_name":"","jid":"","pair_jid":"6281234567890:12@s.whatsapp.net","pair_lid":"","platform":"android"}})",
     0, E::linked, "dev-42", "", 0, kOriginAt},
    {"origin_connected", Protocol::origin, kJson,
     R"({"event_type":"connection.connected","device_id":"dev-42","timestamp":"2026-03-25T15:15:17.123Z","data":{"is_connected":true,"is_logged_in":true,"jid":"6281234567890","phone_number":"6281234567890"}})",
     0, E::linked, "dev-42", "", 0, kOriginAt},
    {"origin_connected_not_logged_in", Protocol::origin, kJson,
     R"({"event_type":"connection.connected","device_id":"dev-42","timestamp":"2026-03-25T15:15:17.123Z","data":{"is_logged_in":false}})",
     0, E::none, "dev-42", "", 0, kOriginAt},
    {"origin_pair_error", Protocol::origin, kJson,
     R"({"event_type":"connection.pair_error","device_id":"dev-42","timestamp":"2026-03-25T15:15:17.123Z","data":{"error":"pair error"}})",
     0, E::pair_failed, "dev-42", "", 0, kOriginAt},
    {"origin_logged_out", Protocol::origin, kJson,
     R"({"event_type":"connection.logged_out","device_id":"dev-42","timestamp":"2026-03-25T15:15:17.123Z","data":{"jid":""}})",
     0, E::logged_out, "dev-42", "", 0, kOriginAt},
    {"origin_other_event", Protocol::origin, kJson,
     R"({"event_type":"message.received","device_id":"dev-42","timestamp":"nonsense","data":7})", 0, E::none, "", "", 0,
     0},
    {"origin_no_timestamp", Protocol::origin, kJson, R"({"event_type":"connection.logged_out","device_id":"dev-42"})",
     0, E::logged_out, "dev-42", "", 0, 0},
    {"origin_bad_timestamp", Protocol::origin, kJson,
     R"({"event_type":"connection.logged_out","device_id":"dev-42","timestamp":"2026-02-30T00:00:00Z"})", 400, E::none,
     "", "", 0, 0},
    {"origin_numeric_timestamp", Protocol::origin, kJson,
     R"({"event_type":"connection.logged_out","device_id":"dev-42","timestamp":1774451717})", 400, E::none, "", "", 0,
     0},
    {"origin_no_event_type", Protocol::origin, kJson, R"({"device_id":"dev-42"})", 400, E::none, "", "", 0, 0},
    {"origin_data_not_object", Protocol::origin, kJson,
     R"({"event_type":"connection.pair_success","device_id":"dev-42","data":[1]})", 400, E::none, "", "", 0, 0},
    {"origin_is_logged_in_string", Protocol::origin, kJson,
     R"({"event_type":"connection.connected","device_id":"dev-42","data":{"is_logged_in":"yes"}})", 400, E::none, "",
     "", 0, 0},

    // GoWA: docs/webhook-payload.md's envelope; session_id added by webhook_forward.go
    {"gowa_message_proves_a_session", Protocol::gowa, kJson,
     R"({"event":"message","device_id":"6281234567890@s.whatsapp.net","session_id":"dev-42","payload":{"id":"M1"}})", 0,
     E::linked, "dev-42", "", 0, 0},
    {"gowa_ack", Protocol::gowa, kJson,
     R"({"event":"message.ack","device_id":"x@s.whatsapp.net","session_id":"dev-42","payload":{}})", 0, E::linked,
     "dev-42", "", 0, 0},
    {"gowa_unmapped_jid", Protocol::gowa, kJson, R"({"event":"message","device_id":"x@s.whatsapp.net","payload":{}})",
     0, E::none, "", "", 0, 0},
    {"gowa_unknown_event", Protocol::gowa, kJson, R"({"event":"device.something","session_id":"dev-42"})", 0, E::none,
     "", "", 0, 0},
    {"gowa_session_not_string", Protocol::gowa, kJson, R"({"event":"message","session_id":["dev-42"]})", 400, E::none,
     "", "", 0, 0},

    // WAHA: core/webhooks.core.ts callWebhook, session.status's statuses
    {"waha_working", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","me":{"id":"6281@c.us"},"payload":{"status":"WORKING"},"engine":"NOWEB","timestamp":1741249702485})",
     0, E::linked, "dev-42", "", 0, 1741249702485},
    {"waha_failed", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":"FAILED"}})", 0, E::logged_out, "dev-42", "",
     0, 0},
    {"waha_stopped", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":"STOPPED"}})", 0, E::pair_failed, "dev-42", "",
     0, 0},
    {"waha_scan_qr_code", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":"SCAN_QR_CODE"}})", 0, E::not_linked, "dev-42",
     "", 0, 0},
    {"waha_starting", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":"STARTING"}})", 0, E::none, "", "", 0, 0},
    {"waha_message", Protocol::waha, kJson, R"({"event":"message","session":"dev-42","payload":{}})", 0, E::none, "",
     "", 0, 0},
    {"waha_status_not_string", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":3}})", 400, E::none, "", "", 0, 0},
    {"waha_timestamp_float", Protocol::waha, kJson,
     R"({"event":"session.status","session":"dev-42","payload":{"status":"WORKING"},"timestamp":1.5})", 400, E::none,
     "", "", 0, 0},

    // wuzapi: helpers.go callHookWithHmac, the form or WEBHOOK_FORMAT=json
    {"wuzapi_form_pair_success", Protocol::wuzapi, kForm,
     "instanceName=dev-42&jsonData=%7B%22event%22%3A%7B%7D%2C%22type%22%3A%22PairSuccess%22%7D&userID=u1", 0, E::linked,
     "dev-42", "", 0, 0},
    {"wuzapi_form_plus_is_space", Protocol::wuzapi, "Application/X-WWW-Form-Urlencoded; charset=utf-8",
     "instanceName=dev+42&jsonData=%7B%22type%22%3A%22LoggedOut%22%7D", 0, E::logged_out, "dev 42", "", 0, 0},
    {"wuzapi_json_connected", Protocol::wuzapi, kJson,
     R"({"event":{},"instanceName":"dev-42","type":"Connected","userID":"u1"})", 0, E::linked, "dev-42", "", 0, 0},
    {"wuzapi_json_pair_error", Protocol::wuzapi, kJson,
     R"({"event":{},"instanceName":"dev-42","type":"PairError","userID":"u1"})", 0, E::pair_failed, "dev-42", "", 0, 0},
    {"wuzapi_json_qr_timeout", Protocol::wuzapi, kJson, R"({"instanceName":"dev-42","type":"QRTimeout"})", 0,
     E::pair_failed, "dev-42", "", 0, 0},
    {"wuzapi_message", Protocol::wuzapi, kJson, R"({"type":"Message","event":{}})", 0, E::none, "", "", 0, 0},
    {"wuzapi_form_bad_escape", Protocol::wuzapi, kForm, "instanceName=dev%4&jsonData=%7B%7D", 400, E::none, "", "", 0,
     0},
    {"wuzapi_form_twice", Protocol::wuzapi, kForm,
     "instanceName=a&instanceName=b&jsonData=%7B%22type%22%3A%22LoggedOut%22%7D", 400, E::none, "", "", 0, 0},
    {"wuzapi_form_no_json", Protocol::wuzapi, kForm, "instanceName=dev-42", 400, E::none, "", "", 0, 0},
    {"wuzapi_json_no_instance", Protocol::wuzapi, kJson, R"({"type":"LoggedOut"})", 400, E::none, "", "", 0, 0},

    // Evolution: webhook.controller.ts emit(), whatsapp.baileys.service.ts connectionUpdate
    {"evolution_new_code", Protocol::evolution, kJson,
     R"({"event":"qrcode.updated","instance":"dev-42","data":{"qrcode":{"instance":"dev-42","pairingCode":"WZYEH1YY","code":"2@x","base64":"data:image/png;base64,AA=="}},"destination":"https://e/x","date_time":"2025-10-21T11:40:39.000Z","sender":null,"server_url":"http://evo","apikey":null})",
     0, E::new_code, "dev-42", "WZYE-H1YY", kEvolutionEventCodeSeconds, 1761046839000},
    {"evolution_qr_without_number", Protocol::evolution, kJson,
     R"({"event":"qrcode.updated","instance":"dev-42","data":{"qrcode":{"instance":"dev-42","pairingCode":null,"code":"2@x"}}})",
     0, E::none, "", "", 0, 0},
    {"evolution_qr_limit", Protocol::evolution, kJson,
     R"({"event":"qrcode.updated","instance":"dev-42","data":{"message":"QR code limit reached, please login again","statusCode":500}})",
     0, E::pair_failed, "dev-42", "", 0, 0},
    {"evolution_open", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":"dev-42","data":{"instance":"dev-42","wuid":"6281@s.whatsapp.net","state":"open","statusReason":200}})",
     0, E::linked, "dev-42", "", 0, 0},
    {"evolution_close", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":"dev-42","data":{"instance":"dev-42","state":"close","statusReason":401}})",
     0, E::logged_out, "dev-42", "", 0, 0},
    {"evolution_refused", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":"dev-42","data":{"state":"refused","statusReason":428}})", 0,
     E::pair_failed, "dev-42", "", 0, 0},
    {"evolution_connecting", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":"dev-42","data":{"state":"connecting"}})", 0, E::none, "", "", 0, 0},
    {"evolution_messages", Protocol::evolution, kJson, R"({"event":"messages.upsert","instance":"dev-42","data":{}})",
     0, E::none, "", "", 0, 0},
    {"evolution_bad_code", Protocol::evolution, kJson,
     R"({"event":"qrcode.updated","instance":"dev-42","data":{"qrcode":{"pairingCode":"WZYEH1Y0"}}})", 400, E::none, "",
     "", 0, 0},
    {"evolution_code_number", Protocol::evolution, kJson,
     R"({"event":"qrcode.updated","instance":"dev-42","data":{"qrcode":{"pairingCode":12345678}}})", 400, E::none, "",
     "", 0, 0},
    {"evolution_data_string", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":"dev-42","data":"open"})", 400, E::none, "", "", 0, 0},
    {"evolution_instance_number", Protocol::evolution, kJson,
     R"({"event":"connection.update","instance":42,"data":{"state":"open"}})", 400, E::none, "", "", 0, 0},

    // native: docs/protocol.md
    {"native_pair_success", Protocol::native, kJson,
     R"({"event":"pair_success","device_id":"dev-42","timestamp":1764900000123})", 0, E::linked, "dev-42", "", 0,
     1764900000123},
    {"native_code", Protocol::native, kJson,
     R"({"event":"code","device_id":"dev-42","pair_code":"wxyz-2345","timeout":90})", 400, E::none, "", "", 0, 0},
    {"native_code_upper", Protocol::native, kJson,
     R"({"event":"code","device_id":"dev-42","pair_code":"WXYZ2345","timeout":90})", 0, E::new_code, "dev-42",
     "WXYZ-2345", 90, 0},
    {"native_code_no_timeout", Protocol::native, kJson,
     R"({"event":"code","device_id":"dev-42","pair_code":"WXYZ2345"})", 400, E::none, "", "", 0, 0},
    {"native_negative_timestamp", Protocol::native, kJson,
     R"({"event":"pair_error","device_id":"dev-42","timestamp":-1})", 400, E::none, "", "", 0, 0},
    {"native_device_too_long", Protocol::native, kJson,
     R"({"event":"pair_error","device_id":")" + std::string(256, 'd') + R"("})", 400, E::none, "", "", 0, 0},
    {"native_device_255", Protocol::native, kJson,
     R"({"event":"pair_error","device_id":")" + std::string(255, 'd') + R"("})", 0, E::pair_failed, kDevice255.c_str(),
     "", 0, 0},
    {"native_device_nul", Protocol::native, kJson, R"({"event":"pair_error","device_id":"dev\u0000"})", 400, E::none,
     "", "", 0, 0},
    {"native_unknown", Protocol::native, kJson, R"({"event":"typing","device_id":7})", 0, E::none, "", "", 0, 0},
    {"native_duplicate_member", Protocol::native, kJson,
     R"({"event":"pair_success","device_id":"dev-42","device_id":"dev-7"})", 400, E::none, "", "", 0, 0},
    {"native_trailing_bytes", Protocol::native, kJson, R"({"event":"pair_success","device_id":"dev-42"} x)", 400,
     E::none, "", "", 0, 0},
    {"native_empty", Protocol::native, kJson, "", 400, E::none, "", "", 0, 0},
    {"native_array", Protocol::native, kJson, "[]", 400, E::none, "", "", 0, 0},
    {"native_too_deep", Protocol::native, kJson,
     R"({"event":"pair_success","device_id":"dev-42","x":)" + std::string(40, '[') + std::string(40, ']') + "}", 400,
     E::none, "", "", 0, 0},
};

INSTANTIATE_TEST_SUITE_P(Table, Events, testing::ValuesIn(kRows), RowName());

// ---------------------------------------------------------------- time

TEST(Rfc3339, GoAndJavaScriptTimes) {
    EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339_ms("2026-03-25T22:15:17.123456789+07:00"), kOriginAt);
    EXPECT_EQ(parse_rfc3339_ms("2026-03-25T15:15:17.1Z"), kOriginAt - 23);
    EXPECT_EQ(parse_rfc3339_ms("2026-03-25t15:15:17z"), kOriginAt - 123);
    EXPECT_EQ(parse_rfc3339_ms("2024-02-29T12:00:00-03:30"), 1709220600000);
    EXPECT_EQ(parse_rfc3339_ms("2016-12-31T23:59:60Z"), 1483228799000);  // a leap second
    for (const char *bad : {"", "2026-03-25", "2026-03-25T15:15:17", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                            "2026-03-25T24:00:00Z", "2026-03-25T15:15:17.Z", "2026-03-25T15:15:17.1234567890Z",
                            "2026-03-25T15:15:17+0700", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01",
                            "2026-03-25T15:15:17Z ", "+2026-03-25T15:15:17Z", "2026-03-25T15:15:17+24:00"}) {
        EXPECT_EQ(parse_rfc3339_ms(bad), std::nullopt) << bad;
    }
}

// ---------------------------------------------------------------- signatures

std::shared_ptr<const HmacKey> key(std::string_view secret) {
    auto k = HmacKey::prepare(secret);
    EXPECT_TRUE(k);
    return k;
}

TEST(Signatures, EachEnginesHeader) {
    EXPECT_EQ(signature_scheme(Protocol::origin).header, "X-Webhook-Signature");
    EXPECT_EQ(signature_scheme(Protocol::native).header, "X-Webhook-Signature");
    EXPECT_EQ(signature_scheme(Protocol::gowa).header, "X-Hub-Signature-256");
    EXPECT_EQ(signature_scheme(Protocol::waha).header, "X-Webhook-Hmac");
    EXPECT_EQ(signature_scheme(Protocol::wuzapi).header, "x-hmac-signature");
    EXPECT_EQ(signature_scheme(Protocol::evolution).encoding, SignatureEncoding::none);
}

TEST(Signatures, Rfc4231TestCase2AsEachSha256Scheme) {
    // RFC 4231 4.3: key "Jefe", data "what do ya want for nothing?"
    const std::string mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    const auto k = key("Jefe");
    const std::string_view body = "what do ya want for nothing?";
    const SignatureScheme origin = signature_scheme(Protocol::origin);
    const SignatureScheme wuzapi = signature_scheme(Protocol::wuzapi);
    EXPECT_TRUE(verify_signature(origin, *k, "sha256=" + mac, body));
    EXPECT_TRUE(verify_signature(signature_scheme(Protocol::gowa), *k, "sha256=" + mac, body));
    EXPECT_TRUE(verify_signature(wuzapi, *k, mac, body));
    std::string upper = mac;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_TRUE(verify_signature(wuzapi, *k, upper, body));

    EXPECT_FALSE(verify_signature(origin, *k, mac, body));  // no "sha256="
    EXPECT_FALSE(verify_signature(origin, *k, "SHA256=" + mac, body));
    EXPECT_FALSE(verify_signature(wuzapi, *k, "sha256=" + mac, body));
    EXPECT_FALSE(verify_signature(wuzapi, *k, mac.substr(0, 63), body));  // short
    EXPECT_FALSE(verify_signature(wuzapi, *k, mac + "0", body));          // long
    EXPECT_FALSE(verify_signature(wuzapi, *k, mac.substr(0, 63) + "g", body));
    EXPECT_FALSE(verify_signature(wuzapi, *k, "", body));
    EXPECT_FALSE(verify_signature(wuzapi, *k, mac, "what do ya want for nothing!"));
    EXPECT_FALSE(verify_signature(wuzapi, *key("Jeff"), mac, body));
    EXPECT_FALSE(verify_signature(signature_scheme(Protocol::evolution), *k, mac, body));
    for (std::size_t i = 0; i < mac.size(); ++i) {  // every single-digit change is refused
        std::string bad = mac;
        bad[i] = bad[i] == '0' ? '1' : '0';
        EXPECT_FALSE(verify_signature(wuzapi, *k, bad, body)) << i;
    }
}

TEST(Signatures, WahaDocsSha512Example) {
    // waha-docs content/docs/how-to/webhooks/index.md, "HMAC authentication"
    const auto k = key("my-secret-key");
    const std::string_view body = R"({"event":"message","session":"default","engine":"WEBJS"})";
    const std::string_view mac =
        "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2"
        "c1631777076153fa89";
    EXPECT_TRUE(verify_signature(signature_scheme(Protocol::waha), *k, mac, body));
    EXPECT_FALSE(verify_signature(signature_scheme(Protocol::waha), *k, mac.substr(0, 64), body));
}

TEST(SharedHeader, ComparesWholeValuesWhateverTheirLengths) {
    EXPECT_TRUE(secret_equals("s3cret-value", "s3cret-value"));
    EXPECT_FALSE(secret_equals("s3cret-value", "s3cret-valu"));
    EXPECT_FALSE(secret_equals("s3cret-value", "s3cret-value "));
    EXPECT_FALSE(secret_equals("s3cret-value", ""));
    EXPECT_FALSE(secret_equals("s3cret-value", std::string("s3cret-value\0", 13)));
}

// ---------------------------------------------------------------- fuzz-minded

// What any parse must satisfy, whatever the input.
void check_invariants(const EventParse &p, std::string_view input) {
    ASSERT_TRUE(p.status == 0 || p.status == 400) << p.status << " for " << input.substr(0, 200);
    if (p.status == 400) {
        ASSERT_FALSE(p.error.empty());
        ASSERT_LE(p.error.size(), 200u);
        for (char c : p.error) ASSERT_TRUE(c >= 0x20 && c <= 0x7e);
        // our words only: nothing of the body is echoed
        ASSERT_EQ(p.error.rfind("Event ", 0), 0u) << p.error;
        ASSERT_EQ(p.event.effect, DeviceEvent::none);
        return;
    }
    if (p.event.effect == DeviceEvent::none) return;
    ASSERT_GE(p.event.device.size(), 1u);
    ASSERT_LE(p.event.device.size(), kMaxEventDeviceBytes);
    for (char c : p.event.device) ASSERT_TRUE(c >= 0x20 && c <= 0x7e);
    ASSERT_GE(p.event.at_ms, 0);
    if (p.event.effect == DeviceEvent::new_code) {
        ASSERT_EQ(p.event.code.size(), 9u);
        ASSERT_EQ(format_pair_code(p.event.code), std::optional<std::string>(p.event.code));
        ASSERT_GE(p.event.code_seconds, 1);
        ASSERT_LE(p.event.code_seconds, 86400);
    } else {
        ASSERT_TRUE(p.event.code.empty());
    }
}

TEST(EventsFuzz, MutationsOfEveryRowKeepTheInvariants) {
    std::mt19937 rng(20);
    const char interesting[] = {'"', '{', '}',  '[',  ']', ',', ':', '\\',   '%',   '&',
                                '=', '+', '\0', '\n', 'u', '0', '9', '\x80', '\xff'};
    std::size_t runs = 0;
    for (const EventRow &row : kRows) {
        for (int i = 0; i < 400; ++i) {
            std::string s = row.body;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits && !s.empty(); ++e) {
                const std::size_t at = rng() % s.size();
                switch (rng() % 4) {
                case 0:
                    s[at] = interesting[rng() % sizeof interesting];
                    break;
                case 1:
                    s.erase(at, 1 + rng() % 8);
                    break;
                case 2:
                    s.insert(at, 1, interesting[rng() % sizeof interesting]);
                    break;
                default:
                    s.resize(at);
                    break;  // truncated
                }
            }
            for (Protocol protocol : {Protocol::native, Protocol::origin, Protocol::gowa, Protocol::waha,
                                      Protocol::wuzapi, Protocol::evolution}) {
                check_invariants(parse_event(protocol, row.content_type, s), s);
                ++runs;
            }
        }
    }
    EXPECT_GT(runs, 100000u);
}

TEST(EventsFuzz, WrongTypesForEveryMember) {
    const std::vector<std::string> values = {"null",
                                             "true",
                                             "0",
                                             "-1",
                                             "1.5",
                                             "1e400",
                                             "\"\"",
                                             "\"x\"",
                                             "[]",
                                             "{}",
                                             "[\"dev-42\"]",
                                             "{\"state\":\"open\"}",
                                             "18446744073709551616"};
    const std::vector<std::string> members = {"event",      "event_type", "type",         "device_id", "session",
                                              "session_id", "instance",   "instanceName", "timestamp", "date_time",
                                              "data",       "payload",    "pair_code",    "timeout"};
    for (const std::string &member : members) {
        for (const std::string &value : values) {
            for (const char *event : {"pair_success", "connection.pair_success", "session.status", "PairSuccess",
                                      "qrcode.updated", "connection.update", "code", "message"}) {
                const std::string body = std::string(R"({"event":")") + event + R"(","event_type":")" + event +
                                         R"(","type":")" + event +
                                         R"(","device_id":"d","session":"d","instance":"d",)" + "\"" + member +
                                         "_\":0,\"" + member + "\":" + value + "}";
                for (Protocol protocol : {Protocol::native, Protocol::origin, Protocol::gowa, Protocol::waha,
                                          Protocol::wuzapi, Protocol::evolution}) {
                    check_invariants(parse_event(protocol, kJson, body), body);
                }
            }
        }
    }
}

TEST(EventsFuzz, OversizedBodiesAreReadOrRefusedWithoutHarm) {
    const std::string big(1 << 20, 'a');
    const std::vector<std::string> bodies = {
        R"({"event":"pair_success","device_id":"dev-42","pad":")" + big + "\"}",
        R"({"event":"pair_success","device_id":")" + big + "\"}",
        std::string(1 << 20, '['),
        std::string(1 << 20, '{'),
        "instanceName=" + big + "&jsonData=%7B%22type%22%3A%22PairSuccess%22%7D",
        "jsonData=" + std::string(1 << 18, '%'),
    };
    for (const std::string &body : bodies) {
        for (Protocol protocol : {Protocol::native, Protocol::origin, Protocol::gowa, Protocol::waha, Protocol::wuzapi,
                                  Protocol::evolution}) {
            for (const char *type : {kJson, kForm}) {
                check_invariants(parse_event(protocol, type, body), body);
            }
        }
    }
    const EventParse padded = parse_event(Protocol::native, kJson, bodies[0]);
    EXPECT_EQ(padded.status, 0);
    EXPECT_EQ(padded.event.effect, DeviceEvent::linked);
    EXPECT_EQ(parse_event(Protocol::native, kJson, bodies[1]).status, 400);  // a 1 MB device name
}

}  // namespace
}  // namespace wa_pair
