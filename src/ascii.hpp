// ASCII helpers shared by the core's parsers (header values, JSON names, engine texts).
#pragma once

#include <cstddef>
#include <string_view>

namespace wa_pair::ascii {

inline char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Case-insensitive equality of ASCII letters; other bytes compare exactly.
inline bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace wa_pair::ascii
