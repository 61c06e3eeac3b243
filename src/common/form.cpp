#include "common/form.hpp"

#include "common/ascii.hpp"

namespace wa_pair {

std::optional<std::string> form_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (in.size() - i < 3) return std::nullopt;
            const int hi = ascii::hex_value(in[i + 1]);
            const int lo = ascii::hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace wa_pair
