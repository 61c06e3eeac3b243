// The line format shared by the API key and revocation files (internal to src/*.cpp): one
// record a line, fields separated by spaces or tabs, '#' starting a comment line, blank
// lines ignored, "\r\n" accepted, a UTF-8 BOM at the start ignored.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wa_pair {

// Calls fn(line_number, fields) for every record; stops at the first non-empty string fn
// returns and gives it back prefixed with "line N: ". A NUL or another control character
// (other than the tab) anywhere in a record is refused.
template <class Fn>
std::string for_each_record(std::string_view text, Fn &&fn) {
    if (text.substr(0, 3) == "\xef\xbb\xbf") text.remove_prefix(3);
    std::size_t line_number = 0;
    std::vector<std::string_view> fields;
    while (!text.empty()) {
        ++line_number;
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

        fields.clear();
        std::size_t i = 0;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == line.size() || line[i] == '#') continue;
        std::string error;
        while (i < line.size()) {
            const std::size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
                const unsigned char c = static_cast<unsigned char>(line[i]);
                if (c < 0x20 || c == 0x7f) error = "control character";
                ++i;
            }
            fields.push_back(line.substr(start, i - start));
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        }
        if (error.empty()) error = fn(line_number, fields);
        if (!error.empty()) return "line " + std::to_string(line_number) + ": " + error;
    }
    return {};
}

}  // namespace wa_pair
