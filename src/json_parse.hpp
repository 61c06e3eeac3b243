// Untrusted JSON text -> nlohmann::json, without exceptions. Internal to the core's .cpp files
// (request bodies, JWT segments, backend answers); the rest of the code sees typed values.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace wa_pair {

// Nesting deeper than this is refused: no legitimate body, JWT or backend answer needs it.
inline constexpr int kMaxJsonDepth = 8;

// Returns a discarded value (is_discarded()) when `text` is not exactly one JSON value
// (invalid UTF-8, trailing bytes, comments), nests deeper than `max_depth`, or repeats a
// member name of the top-level object. Duplicates are refused because parsers disagree on
// which one wins (RFC 7515 section 4 asks JWS parsers to reject them or take the last);
// refusing is the only answer that cannot be read two ways. Throws only std::bad_alloc.
inline nlohmann::json parse_json(std::string_view text, int max_depth = kMaxJsonDepth)
{
    using json = nlohmann::json;
    bool refused = false;
    std::set<std::string> top_level_keys;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event,
                                              json& parsed) {
        if (event == json::parse_event_t::object_start ||
            event == json::parse_event_t::array_start) {
            // `depth` counts the containers already open, so this one is at depth + 1.
            if (depth >= max_depth) {
                refused = true;
                return false;  // do not build the subtree; the flag refuses the document
            }
        } else if (event == json::parse_event_t::key && depth == 1) {
            if (!top_level_keys.insert(parsed.get_ref<const std::string&>()).second) {
                refused = true;
            }
        }
        return true;
    };
    json value = json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/false);
    if (refused) return json(json::value_t::discarded);
    return value;
}

}  // namespace wa_pair
