// ASCII helpers shared by the core's parsers (header values, JSON names, engine texts).
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace wa_pair::ascii {

inline char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Case-insensitive equality of ASCII letters; other bytes compare exactly.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// RFC 9110's tchar (section 5.6.2): the bytes of a token, such as a header name.
inline bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// HTTP's optional whitespace (RFC 9110 5.6.3): a space or a tab.
inline bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

// `s` without its leading and trailing spaces and tabs.
inline std::string_view trim_blank(std::string_view s) noexcept {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// A hexadecimal digit's value (either case), -1 for any other byte.
inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Writes 2 * n lowercase hex digits of `in` to `out` (ngx_hex_dump's output), two digits per
// table lookup: the request id of every answer goes through it.
inline void hex_lower(char *out, const unsigned char *in, std::size_t n) noexcept {
    struct Pairs {
        char d[256][2];
    };
    static constexpr Pairs kPairs = [] {
        Pairs t{};
        constexpr char kDigits[] = "0123456789abcdef";
        for (int i = 0; i < 256; ++i) {
            t.d[i][0] = kDigits[i >> 4];
            t.d[i][1] = kDigits[i & 15];
        }
        return t;
    }();
    for (std::size_t i = 0; i < n; ++i) std::memcpy(out + 2 * i, kPairs.d[in[i]], 2);
}

// Where the first space or tab is (npos when none): memchr's word-at-a-time scan, since
// tokens are a few hundred bytes and this runs on every request.
inline std::size_t find_blank(std::string_view s) noexcept {
    const void *space = s.empty() ? nullptr : std::memchr(s.data(), ' ', s.size());
    const std::size_t end = space ? static_cast<std::size_t>(static_cast<const char *>(space) - s.data()) : s.size();
    const void *tab = end == 0 ? nullptr : std::memchr(s.data(), '\t', end);
    if (tab) return static_cast<std::size_t>(static_cast<const char *>(tab) - s.data());
    return space ? end : std::string_view::npos;
}

// How many times `c` occurs in `s`, counting no further than `limit`.
inline std::size_t count_upto(std::string_view s, char c, std::size_t limit) noexcept {
    std::size_t n = 0;
    const char *p = s.data();
    const char *end = s.data() + s.size();
    while (n < limit && p < end) {
        const void *hit = std::memchr(p, c, static_cast<std::size_t>(end - p));
        if (hit == nullptr) break;
        ++n;
        p = static_cast<const char *>(hit) + 1;
    }
    return n;
}

}  // namespace wa_pair::ascii
