// A strict JSON scanner for the request's hot paths (the JWT header and payload, the login
// body, the native backend answer): the top-level object's members as views into the text,
// without building a DOM. It accepts and refuses exactly the documents parse_json() does
// (json_parse.hpp, nlohmann 3.11), and classifies numbers the way nlohmann does, so that
// switching a reader from one to the other changes no answer; t/unit/common/json_scan_diff_test.cpp
// and fuzz/json_scan.cpp hold it to that. No nginx types; bad input is a result, never an
// exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_limits.hpp"

namespace wa_pair {

enum class JsonKind : std::uint8_t { null, boolean, number, string, array, object };

// nlohmann's three number types: digits that fit a uint64 are unsigned; a '-' and digits that
// fit an int64 are an integer ("-0" is the integer 0); anything else (a fraction, an exponent,
// an integer too large) is a float.
enum class JsonNumber : std::uint8_t { unsigned_integer, integer, floating };

// One value of a scanned text; its views point into that text, which must outlive it.
struct JsonValue {
    JsonKind kind = JsonKind::null;
    JsonNumber number = JsonNumber::unsigned_integer;  // when kind == number
    bool boolean = false;                              // when kind == boolean
    bool escaped = false;                              // kind == string: `raw` holds a backslash and must be decoded
    // string: the bytes between the quotes, as written; number: its text; array and object:
    // from the opening to the closing bracket; true, false, null: the literal.
    std::string_view raw;
    std::uint64_t unsigned_value = 0;  // number == unsigned_integer
    std::int64_t integer_value = 0;    // number == integer
    double float_value = 0;            // number == floating (always finite)

    bool is_null() const noexcept { return kind == JsonKind::null; }
    bool is_string() const noexcept { return kind == JsonKind::string; }
    bool is_number() const noexcept { return kind == JsonKind::number; }
    // nlohmann's is_number_integer(): unsigned or signed, not float.
    bool is_integer() const noexcept { return kind == JsonKind::number && number != JsonNumber::floating; }

    // The decoded string (kind == string). Throws only std::bad_alloc.
    std::string string() const;
    // The decoded string as a view: `raw` itself when nothing is escaped (no copy), else the
    // string decoded into `scratch`, which must outlive the view. Throws only std::bad_alloc.
    std::string_view decoded(std::string &scratch) const;
    // The decoded string equals `s` (kind == string); allocates only for an escaped string.
    bool string_equals(std::string_view s) const;
    // The number as nlohmann's get<double>() gives it (kind == number).
    double as_double() const noexcept;
    // An array or object without elements.
    bool empty_container() const noexcept;
};

// A top-level member: its decoded name and its value.
struct JsonMember {
    std::string_view name;
    JsonValue value;
};

// The members of a scanned top-level object, in the order written (no name twice). Its views
// point into the scanned text and into the object itself: neither copied nor moved.
class JsonObject {
public:
    JsonObject() = default;
    JsonObject(const JsonObject &) = delete;
    JsonObject &operator=(const JsonObject &) = delete;

    // The value of member `name`, or nullptr.
    const JsonValue *find(std::string_view name) const noexcept;
    std::size_t size() const noexcept { return size_; }
    const JsonMember *begin() const noexcept { return members_; }
    const JsonMember *end() const noexcept { return members_ + size_; }

private:
    friend class JsonObjectBuilder;

    // Most objects we read have a handful of members: they stay here, without allocation.
    static constexpr std::size_t kInlineMembers = 16;
    union Inline {
        Inline() noexcept {}  // not initialised: a member is constructed when it is found
        JsonMember at[kInlineMembers];
    };
    Inline inline_;
    std::vector<JsonMember> spilled_;  // all members, once there are more than kInlineMembers
    std::string names_;                // decoded names that were written with escapes
    const JsonMember *members_ = inline_.at;
    std::size_t size_ = 0;
};

enum class JsonScan : std::uint8_t {
    object,      // a JSON object: its members are in the JsonObject
    not_object,  // valid JSON (within the limits) but not an object
    invalid,     // what parse_json() discards
};

// Scans `text` as exactly one JSON value. Invalid: what nlohmann refuses (RFC 8259's grammar,
// ill-formed UTF-8, unpaired surrogate escapes, control characters in strings, a number that
// overflows a double, trailing bytes, comments), nesting deeper than `max_depth` containers,
// and a top-level member name written twice (compared decoded). Like nlohmann, it skips a
// leading UTF-8 byte order mark and stops at a NUL byte where a token would start. `out` is
// filled only for JsonScan::object. Throws only std::bad_alloc.
JsonScan scan_json_object(std::string_view text, JsonObject &out, int max_depth = kMaxJsonDepth);

// The items of an array value from scan_json_object, in order:
//   JsonArrayItems items(value); JsonValue item; while (items.next(item)) ...
class JsonArrayItems {
public:
    explicit JsonArrayItems(const JsonValue &array) noexcept;
    bool next(JsonValue &item) noexcept;

private:
    const char *at_;
    const char *end_;
};

// The bytes an escaped JSON string (as between its quotes, already validated) stands for.
void decode_json_string(std::string_view raw, std::string &out);

}  // namespace wa_pair
