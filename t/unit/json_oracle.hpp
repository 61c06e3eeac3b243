// The differential check of the JSON scanner (src/common/json_scan.hpp) against nlohmann through
// parse_json(), the reader it replaces: both must accept and refuse the same texts and read
// the same members. Shared by t/unit/common/json_scan_diff_test.cpp and fuzz/json_scan.cpp.
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_parse.hpp"
#include "common/json_scan.hpp"

namespace wa_pair::oracle {

inline const char *scan_name(JsonScan s) {
    switch (s) {
    case JsonScan::object:
        return "object";
    case JsonScan::not_object:
        return "not_object";
    case JsonScan::invalid:
        return "invalid";
    }
    return "?";
}

inline bool same_double(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;  // -0.0 and 0.0 differ; no NaN can occur
}

// "" when the scanner's value `v` reads as nlohmann's `j`, else what differs.
inline std::string compare_value(const JsonValue &v, const nlohmann::json &j) {
    using json = nlohmann::json;
    switch (v.kind) {
    case JsonKind::null:
        return j.is_null() ? "" : "null vs " + std::string(j.type_name());
    case JsonKind::boolean:
        if (!j.is_boolean()) return "boolean vs " + std::string(j.type_name());
        return j.get<bool>() == v.boolean ? "" : "boolean value";
    case JsonKind::string:
        if (!j.is_string()) return "string vs " + std::string(j.type_name());
        if (v.string() != j.get_ref<const std::string &>()) return "string value";
        if (!v.string_equals(j.get_ref<const std::string &>())) return "string_equals";
        return "";
    case JsonKind::number:
        if (!j.is_number()) return "number vs " + std::string(j.type_name());
        if (!same_double(v.as_double(), j.get<double>())) return "number as double";
        switch (v.number) {
        case JsonNumber::unsigned_integer:
            if (!j.is_number_unsigned()) return "unsigned vs another number type";
            return v.unsigned_value == j.get<std::uint64_t>() ? "" : "unsigned value";
        case JsonNumber::integer:
            if (!j.is_number_integer() || j.is_number_unsigned()) return "integer vs another number type";
            return v.integer_value == j.get<std::int64_t>() ? "" : "integer value";
        case JsonNumber::floating:
            if (!j.is_number_float()) return "float vs another number type";
            return same_double(v.float_value, j.get<double>()) ? "" : "float value";
        }
        return "number type";
    case JsonKind::array: {
        if (!j.is_array()) return "array vs " + std::string(j.type_name());
        if (v.empty_container() != j.empty()) return "array emptiness";
        // The raw span is the same array, and its items iterate as nlohmann's.
        if (json::parse(v.raw, nullptr, false) != j) return "array raw span";
        JsonArrayItems items(v);
        JsonValue item;
        std::size_t i = 0;
        while (items.next(item)) {
            if (i >= j.size()) return "array has more items";
            if (std::string d = compare_value(item, j[i]); !d.empty()) {
                return "array item " + std::to_string(i) + ": " + d;
            }
            ++i;
        }
        return i == j.size() ? "" : "array has fewer items";
    }
    case JsonKind::object:
        if (!j.is_object()) return "object vs " + std::string(j.type_name());
        if (v.empty_container() != j.empty()) return "object emptiness";
        return json::parse(v.raw, nullptr, false) == j ? "" : "object raw span";
    }
    return "kind";
}

// "" when scan_json_object(text) and parse_json(text) agree on `text`, else what differs.
inline std::string compare(std::string_view text, int max_depth = kMaxJsonDepth) {
    const nlohmann::json j = parse_json(text, max_depth);
    const JsonScan expected = j.is_discarded() ? JsonScan::invalid
                              : j.is_object()  ? JsonScan::object
                                               : JsonScan::not_object;
    JsonObject object;
    const JsonScan got = scan_json_object(text, object, max_depth);
    if (got != expected) {
        return std::string("scanner says ") + scan_name(got) + ", nlohmann " + scan_name(expected);
    }
    if (got != JsonScan::object) return "";
    if (object.size() != j.size()) return "member count";
    for (const JsonMember &m : object) {
        if (object.find(m.name) != &m.value) return "find() misses a member";
        const auto it = j.find(std::string(m.name));
        if (it == j.end()) return "member only in the scanner";
        if (std::string d = compare_value(m.value, *it); !d.empty()) {
            return "member \"" + std::string(m.name) + "\": " + d;
        }
    }
    return "";
}

// 1 to 4 random edits of `text`: byte flips, grammar fragments inserted, bytes deleted, pieces
// repeated (repeated members, deeper nesting), bytes of JSON's alphabet swapped in.
inline void mutate(std::string &text, std::mt19937 &rng) {
    using namespace std::string_literals;
    static const std::vector<std::string> fragments = {
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        ":",
        "\\",
        "\\u",
        "\\ud83d",
        "\\ude00",
        "\\u0000",
        "-",
        "0",
        "1",
        "e",
        "E",
        ".",
        "+",
        "1e999",
        "18446744073709551616",
        "-9223372036854775809",
        "true",
        "null",
        "\0"s,
        " ",
        "\n",
        "\x7f",
        "\xC3",
        "\xA9",
        "\xED\xA0\x80",
        "\xF4\x90\x80\x80",
        "\xEF\xBB\xBF",
        "\"a\":1,",
        "\"phone\":",
        "\"pair_code\":",
        "[[[[",
        "]]]]",
        "{\"a\":{\"b\":",
    };
    const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % (n == 0 ? 1 : n)); };
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
        const std::size_t at = pick(text.size() + 1);
        switch (pick(5)) {
        case 0:
            if (!text.empty()) text[pick(text.size())] = static_cast<char>(rng());
            break;
        case 1:
            text.insert(at, fragments[pick(fragments.size())]);
            break;
        case 2:
            text.erase(at, 1 + pick(4));
            break;
        case 3:
            if (at < text.size()) text.insert(at, text.substr(at, 1 + pick(12)));
            break;
        default:
            if (!text.empty()) text[pick(text.size())] = "{}[]\":,\\-.0e "[pick(14)];
            break;
        }
    }
}

}  // namespace wa_pair::oracle
