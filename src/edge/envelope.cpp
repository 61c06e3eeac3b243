// The JSON envelope (README.md, "What a client gets"). Built by hand rather than with a JSON library so
// that the key order and the bytes are exactly the contract's.
#include "edge/envelope.hpp"

#include <charconv>

#include "common/utf8.hpp"

namespace wa_pair {

namespace {

// Bytes that go into a JSON string as they are: printable ASCII except '"' and '\\'.
struct PlainTable {
    bool plain[256];
    constexpr PlainTable() : plain() {
        for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\';
    }
};
constexpr PlainTable kPlain;

void append_u_escape(std::string &out, unsigned code) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    out += hex[(code >> 12) & 0xf];
    out += hex[(code >> 8) & 0xf];
    out += hex[(code >> 4) & 0xf];
    out += hex[code & 0xf];
}

}  // namespace

std::string_view status_message(int code) noexcept {
    switch (code) {
    case 200:
        return "Pairing code generated successfully";
    case 400:
        return "Bad request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 408:
        return "Request timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload too large";
    case 415:
        return "Unsupported media type";
    case 429:
        return "Too many requests";
    case 500:
        return "Internal server error";
    case 502:
        return "Bad gateway";
    case 503:
        return "Service unavailable";
    case 504:
        return "Gateway timeout";
    default:
        return "Error";
    }
}

void append_json_string(std::string &out, std::string_view text) {
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        // A run of printable ASCII other than the two escaped characters goes in one append.
        std::size_t run = i;
        while (run < text.size() && kPlain.plain[static_cast<unsigned char>(text[run])]) ++run;
        if (run > i) {
            out.append(text.data() + i, run - i);
            i = run;
            continue;
        }
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:  // the other controls and DEL: printable ASCII went with the run above
                append_u_escape(out, c);
            }
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence_length(text, i);
        if (len == 0) {
            append_u_escape(out, 0xfffd);
            ++i;
            continue;
        }
        // U+2028 and U+2029 are valid JSON but end a line in JavaScript.
        if (len == 3 && c == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80) {
            const unsigned char third = static_cast<unsigned char>(text[i + 2]);
            if (third == 0xa8 || third == 0xa9) {
                append_u_escape(out, 0x2000u + 0x28u + (third - 0xa8u));
                i += 3;
                continue;
            }
        }
        out.append(text.data() + i, len);
        i += len;
    }
    out += '"';
}

std::optional<std::string> success_envelope(std::string_view pair_code, long timeout_seconds) noexcept {
    try {
        // Everything before the code is fixed (status_message(200) is plain ASCII).
        static constexpr std::string_view kHead =
            "{\"status\":true,\"code\":200,\"message\":\"Pairing code generated successfully\","
            "\"data\":{\"pair_code\":";
        char digits[24];
        const std::to_chars_result seconds = std::to_chars(digits, digits + sizeof(digits), timeout_seconds);
        std::string out;
        out.reserve(kHead.size() + pair_code.size() + 32);
        out.append(kHead);
        append_json_string(out, pair_code);
        out.append(",\"timeout\":");
        out.append(digits, seconds.ptr);
        out.append("}}");
        return out;
    } catch (...) {
        return std::nullopt;
    }
}

void append_error_envelope(std::string &out, int code, std::string_view error) {
    out.reserve(out.size() + 96 + error.size());
    out += "{\"status\":false,\"code\":";
    out += std::to_string(code);
    out += ",\"message\":\"";
    out += status_message(code);  // constants: plain ASCII (envelope_test checks each)
    out += '"';
    out += ",\"error\":";
    append_json_string(out, error);
    out += '}';
}

std::optional<std::string> error_envelope(int code, std::string_view error) noexcept {
    try {
        std::string out;
        append_error_envelope(out, code, error);
        return out;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace wa_pair
