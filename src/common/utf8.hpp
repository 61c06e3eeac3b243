// UTF-8, as RFC 3629 section 4 has it: the one validator of the core (the JSON reader's
// strings, the envelope's texts).
#pragma once

#include <cstddef>
#include <string_view>

namespace wa_pair {

// Length of the valid UTF-8 sequence starting at text[i] (i < text.size()), 0 when it is not
// one: overlong forms, surrogates, code points above U+10FFFF and truncated sequences are not
// valid. An ASCII byte is not a multi-byte sequence: 0.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t len;
    unsigned char min2 = 0x80, max2 = 0xbf;  // the range allowed for the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        len = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        len = 3;
        if (lead == 0xe0) min2 = 0xa0;  // overlong
        if (lead == 0xed) max2 = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        len = 4;
        if (lead == 0xf0) min2 = 0x90;  // overlong
        if (lead == 0xf4) max2 = 0x8f;  // above U+10FFFF
    } else {
        return 0;
    }
    if (text.size() - i < len) return 0;
    if (byte(i + 1) < min2 || byte(i + 1) > max2) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    }
    return len;
}

}  // namespace wa_pair
