// base64url without padding (RFC 7515 section 2). Strict: one value, one encoding.
#include "common/base64url.hpp"

namespace wa_pair {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each byte's 6-bit value, or -1 outside the alphabet: one load per character on the JWT path.
struct DecodeTable {
    signed char value[256] = {};
    constexpr DecodeTable() {
        for (int c = 0; c < 256; ++c) value[c] = -1;
        for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
    }
};
constexpr DecodeTable kDecode;

int base64url_value(char c) noexcept {
    return kDecode.value[static_cast<unsigned char>(c)];
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view in) noexcept {
    try {
        const std::size_t tail = in.size() % 4;
        if (tail == 1) return std::nullopt;
        // Exactly the decoded size: 3 bytes per 4 characters, and 1 or 2 for a tail of 2 or 3.
        std::string out(in.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1), '\0');
        char *to = out.data();
        std::size_t i = 0;
        for (; i + 4 <= in.size(); i += 4) {
            const int a = base64url_value(in[i]);
            const int b = base64url_value(in[i + 1]);
            const int c = base64url_value(in[i + 2]);
            const int d = base64url_value(in[i + 3]);
            if ((a | b | c | d) < 0) break;
            const unsigned group = static_cast<unsigned>(a << 18 | b << 12 | c << 6 | d);
            *to++ = static_cast<char>(group >> 16);
            *to++ = static_cast<char>((group >> 8) & 0xff);
            *to++ = static_cast<char>(group & 0xff);
        }
        bool valid = i + tail == in.size();
        if (valid && tail != 0) {
            const int a = base64url_value(in[i]);
            const int b = base64url_value(in[i + 1]);
            const int c = tail == 3 ? base64url_value(in[i + 2]) : 0;
            // 18 bits, the bytes their top 8 or 16 (a tail of 2 reads as a zero third
            // character); the bits left below (4 or 2 from the text) are padding and must be zero.
            const unsigned group = (a | b | c) < 0 ? 1u : static_cast<unsigned>(a << 12 | b << 6 | c);
            valid = (group & (tail == 2 ? 0x3ffu : 0x3u)) == 0;
            if (valid) {
                *to++ = static_cast<char>(group >> 10);
                if (tail == 3) *to++ = static_cast<char>((group >> 2) & 0xff);
            }
        }
        if (!valid) return std::nullopt;
        return out;
    } catch (...) {
        return std::nullopt;
    }
}

std::string base64url_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        buffer = (buffer << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(buffer >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
    return out;
}

}  // namespace wa_pair
