// base64url without padding (RFC 7515 section 2). Strict: one value, one encoding.
#include "base64url.hpp"

namespace wa_pair {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64url_value(char c) noexcept
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) noexcept
{
    try {
        out.clear();
        if (in.size() % 4 == 1) return false;
        out.reserve(in.size() / 4 * 3 + 2);
        unsigned buffer = 0;
        int bits = 0;
        for (char c : in) {
            const int v = base64url_value(c);
            if (v < 0) {
                out.clear();
                return false;
            }
            buffer = (buffer << 6) | static_cast<unsigned>(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out += static_cast<char>((buffer >> bits) & 0xff);
            }
        }
        // The leftover bits (2 or 4) are padding and must be zero.
        if ((buffer & ((1u << bits) - 1)) != 0) {
            out.clear();
            return false;
        }
        return true;
    } catch (...) {
        out.clear();
        return false;
    }
}

std::string base64url_encode(std::string_view in) noexcept
{
    try {
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
    } catch (...) {
        return {};
    }
}

}  // namespace wa_pair
