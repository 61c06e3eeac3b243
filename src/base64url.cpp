// base64url without padding (RFC 7515 section 2). Strict: one value, one encoding.
#include "base64url.hpp"

namespace wa_pair {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each byte's 6-bit value, 0xff for bytes outside the alphabet: one load per input byte.
struct DecodeTable {
    unsigned char value[256];
    constexpr DecodeTable() : value()
    {
        for (unsigned char& v : value) v = 0xff;
        for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = static_cast<unsigned char>(i);
    }
};
constexpr DecodeTable kDecode;

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) noexcept
{
    try {
        out.clear();
        if (in.size() % 4 == 1) return false;
        out.resize(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1));
        char* to = out.data();
        unsigned buffer = 0;
        int bits = 0;
        for (char c : in) {
            const unsigned v = kDecode.value[static_cast<unsigned char>(c)];
            if (v == 0xff) {
                out.clear();
                return false;
            }
            buffer = (buffer << 6) | v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                *to++ = static_cast<char>((buffer >> bits) & 0xff);
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
