// Untrusted JSON text -> nlohmann::json, without exceptions. Internal to the core's .cpp files
// (the engines' backend answers, JWK Sets); the rest of the code sees typed values. The hot
// paths read with json_scan.hpp instead, which accepts and refuses exactly what this does.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_limits.hpp"

namespace wa_pair {

// Returns a discarded value (is_discarded()) when `text` is not exactly one JSON value
// (invalid UTF-8, trailing bytes, comments), nests deeper than `max_depth`, or repeats a
// member name of the top-level object. Duplicates are refused because parsers disagree on
// which one wins (RFC 7515 section 4 asks JWS parsers to reject them or take the last);
// refusing is the only answer that cannot be read two ways. Throws only std::bad_alloc.
inline nlohmann::json parse_json(std::string_view text, int max_depth = kMaxJsonDepth) {
    using json = nlohmann::json;
    bool refused = false;
    std::set<std::string> top_level_keys;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json &parsed) {
        if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
            // `depth` counts the containers already open, so this one is at depth + 1.
            if (depth >= max_depth) {
                refused = true;
                return false;  // do not build the subtree; the flag refuses the document
            }
        } else if (event == json::parse_event_t::key && depth == 1) {
            if (!top_level_keys.insert(parsed.get_ref<const std::string &>()).second) {
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
