// The strict JSON scanner (json_scan.hpp). Every rule below is nlohmann 3.11's (its lexer and
// parser), written down so that the scanner and parse_json() refuse the same bytes: where
// nlohmann departs from a plain reading of RFC 8259 (a leading byte order mark, a NUL byte
// ending the input, a float that overflows a double), so does the scanner.
#include "common/json_scan.hpp"
#include "common/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace wa_pair {

namespace {

// Bytes that stand for themselves inside a string: printable ASCII (0x7f included, as in
// nlohmann) except the quote and the backslash.
struct PlainBytes {
    bool plain[256] = {};
    constexpr PlainBytes() {
        for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
    }
};
constexpr PlainBytes kPlain;

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The 4 hex digits at `at` (bounds checked by the caller) as a code unit, or -1.
int hex4(const char *at) noexcept {
    int unit = 0;
    for (int i = 0; i < 4; ++i) {
        const int d = hex_digit(at[i]);
        if (d < 0) return -1;
        unit = unit * 16 + d;
    }
    return unit;
}

void append_utf8(std::string &out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Appends what a validated string's raw bytes stand for. Defensive on invalid input (it stops
// rather than reading past `raw`), but only ever given what the scanner accepted.
void append_decoded(std::string_view raw, std::string &out) {
    std::size_t i = 0;
    while (i < raw.size()) {
        const std::size_t slash = raw.find('\\', i);
        out.append(raw, i, slash == std::string_view::npos ? std::string_view::npos : slash - i);
        if (slash == std::string_view::npos || slash + 1 >= raw.size()) return;
        i = slash + 2;
        switch (raw[slash + 1]) {
        case '"':
            out += '"';
            break;
        case '\\':
            out += '\\';
            break;
        case '/':
            out += '/';
            break;
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            if (raw.size() - i < 4) return;
            std::uint32_t cp = static_cast<std::uint32_t>(hex4(raw.data() + i));
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (raw.size() - i < 6) return;
                const std::uint32_t low = static_cast<std::uint32_t>(hex4(raw.data() + i + 2));
                i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
        }
        default:
            return;
        }
    }
}

}  // namespace

// Fills a JsonObject while the scanner walks the top-level object; finish() then checks names.
class JsonObjectBuilder {
public:
    JsonObjectBuilder(JsonObject &object, std::size_t text_size) : object_(object), text_size_(text_size) {
        object_.spilled_.clear();
        object_.names_.clear();
        object_.members_ = object_.inline_.at;
        object_.size_ = 0;
    }

    void add(const JsonValue &name, const JsonValue &value) {
        JsonMember member{name.raw, value};
        if (name.escaped) {
            // Decoded names are never longer than the text, so with this capacity the buffer
            // never moves and the views already handed out stay valid.
            std::string &names = object_.names_;
            if (names.capacity() < text_size_) names.reserve(text_size_);
            const std::size_t at = names.size();
            append_decoded(name.raw, names);
            member.name = std::string_view(names.data() + at, names.size() - at);
        }
        if (object_.size_ < JsonObject::kInlineMembers) {
            new (&object_.inline_.at[object_.size_]) JsonMember(member);
        } else {
            if (object_.spilled_.empty()) {
                object_.spilled_.assign(object_.inline_.at, object_.inline_.at + JsonObject::kInlineMembers);
            }
            object_.spilled_.push_back(member);
        }
        ++object_.size_;
    }

    // False when a name is written twice: parsers disagree on which one wins (json_parse.hpp).
    bool finish() {
        if (!object_.spilled_.empty()) object_.members_ = object_.spilled_.data();
        const JsonMember *members = object_.members_;
        const std::size_t n = object_.size_;
        if (n <= JsonObject::kInlineMembers) {
            for (std::size_t i = 1; i < n; ++i) {
                for (std::size_t j = 0; j < i; ++j) {
                    if (members[i].name == members[j].name) return false;
                }
            }
            return true;
        }
        // A large object (a body is up to client_max_body_size): sort, not n^2 comparisons.
        std::vector<std::string_view> names;
        names.reserve(n);
        for (std::size_t i = 0; i < n; ++i) names.push_back(members[i].name);
        std::sort(names.begin(), names.end());
        return std::adjacent_find(names.begin(), names.end()) == names.end();
    }

private:
    JsonObject &object_;
    std::size_t text_size_;
};

namespace {

// A recursive descent over [at, end). Every function starts at its token's first byte and
// returns false for what nlohmann refuses; recursion is bounded by max_depth.
class Scanner {
public:
    Scanner(const char *at, const char *end, int max_depth) noexcept : at_(at), end_(end), max_depth_(max_depth) {}

    const char *at() const noexcept { return at_; }
    void advance() noexcept { ++at_; }

    // JSON's four whitespace bytes, as nlohmann's skip_whitespace.
    void skip_blanks() noexcept {
        while (at_ != end_ && (*at_ == ' ' || *at_ == '\t' || *at_ == '\n' || *at_ == '\r')) ++at_;
    }

    // `depth`: the containers already open around this value. `out` may be null.
    bool value(int depth, JsonValue *out) {
        if (at_ == end_) return false;
        switch (*at_) {
        case '{':
            return object(depth, out, nullptr);
        case '[':
            return array(depth, out);
        case '"':
            return string(out);
        case 't':
            return literal("true", JsonKind::boolean, true, out);
        case 'f':
            return literal("false", JsonKind::boolean, false, out);
        case 'n':
            return literal("null", JsonKind::null, false, out);
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            return number(out);
        default:
            return false;
        }
    }

    // An object; with `members`, the top-level one, whose members are kept.
    bool object(int depth, JsonValue *out, JsonObjectBuilder *members) {
        if (depth >= max_depth_) return false;
        const char *start = at_++;
        skip_blanks();
        if (at_ != end_ && *at_ == '}') return close(start, JsonKind::object, out);
        JsonValue name;
        JsonValue item;
        for (;;) {
            if (at_ == end_ || *at_ != '"' || !string(members != nullptr ? &name : nullptr)) {
                return false;
            }
            skip_blanks();
            if (at_ == end_ || *at_ != ':') return false;
            ++at_;
            skip_blanks();
            if (!value(depth + 1, members != nullptr ? &item : nullptr)) return false;
            if (members != nullptr) members->add(name, item);
            skip_blanks();
            if (at_ == end_) return false;
            if (*at_ == '}') return close(start, JsonKind::object, out);
            if (*at_ != ',') return false;
            ++at_;
            skip_blanks();
        }
    }

    bool array(int depth, JsonValue *out) {
        if (depth >= max_depth_) return false;
        const char *start = at_++;
        skip_blanks();
        if (at_ != end_ && *at_ == ']') return close(start, JsonKind::array, out);
        for (;;) {
            if (!value(depth + 1, nullptr)) return false;
            skip_blanks();
            if (at_ == end_) return false;
            if (*at_ == ']') return close(start, JsonKind::array, out);
            if (*at_ != ',') return false;
            ++at_;
            skip_blanks();
        }
    }

    bool string(JsonValue *out) {
        const char *start = ++at_;
        bool escaped = false;
        for (;;) {
            while (at_ != end_ && kPlain.plain[static_cast<unsigned char>(*at_)]) ++at_;
            if (at_ == end_) return false;
            const unsigned char c = static_cast<unsigned char>(*at_);
            if (c == '"') break;
            if (c == '\\') {
                escaped = true;
                if (!escape()) return false;
            } else if (c < 0x20) {
                return false;  // control characters must be escaped
            } else if (!utf8()) {
                return false;
            }
        }
        if (out != nullptr) {
            *out = JsonValue{};
            out->kind = JsonKind::string;
            out->escaped = escaped;
            out->raw = std::string_view(start, static_cast<std::size_t>(at_ - start));
        }
        ++at_;
        return true;
    }

private:
    std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - at_); }

    bool close(const char *start, JsonKind kind, JsonValue *out) noexcept {
        ++at_;
        if (out != nullptr) {
            *out = JsonValue{};
            out->kind = kind;
            out->raw = std::string_view(start, static_cast<std::size_t>(at_ - start));
        }
        return true;
    }

    bool literal(std::string_view word, JsonKind kind, bool boolean, JsonValue *out) noexcept {
        if (left() < word.size() || std::memcmp(at_, word.data(), word.size()) != 0) return false;
        if (out != nullptr) {
            *out = JsonValue{};
            out->kind = kind;
            out->boolean = boolean;
            out->raw = std::string_view(at_, word.size());
        }
        at_ += word.size();
        return true;
    }

    // After a backslash: one of the 8 short escapes, or \uXXXX where a high surrogate must be
    // followed by \uXXXX with a low one, and a low one may not stand alone.
    bool escape() noexcept {
        ++at_;
        if (at_ == end_) return false;
        switch (*at_) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            ++at_;
            return true;
        case 'u':
            break;
        default:
            return false;
        }
        ++at_;
        if (left() < 4) return false;
        const int unit = hex4(at_);
        if (unit < 0) return false;
        at_ += 4;
        if (unit >= 0xDC00 && unit <= 0xDFFF) return false;
        if (unit < 0xD800 || unit > 0xDBFF) return true;
        if (left() < 6 || at_[0] != '\\' || at_[1] != 'u') return false;
        const int low = hex4(at_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) return false;
        at_ += 6;
        return true;
    }

    // A multi-byte UTF-8 sequence, well-formed (utf8.hpp).
    bool utf8() noexcept {
        const std::size_t len = utf8_sequence_length(std::string_view(at_, left()), 0);
        at_ += len;
        return len != 0;
    }

    bool digit() const noexcept { return at_ != end_ && *at_ >= '0' && *at_ <= '9'; }

    bool digits() noexcept {
        if (!digit()) return false;
        while (digit()) ++at_;
        return true;
    }

    // RFC 8259's number, classified and converted as nlohmann's lexer does (strtoull, strtoll,
    // then strtod); a float that overflows a double is refused, as nlohmann's parser does.
    bool number(JsonValue *out) {
        const char *start = at_;
        const bool negative = *at_ == '-';
        if (negative) ++at_;
        const char *first_digit = at_;
        if (at_ != end_ && *at_ == '0') {
            ++at_;
        } else if (!digits()) {
            return false;
        }
        bool is_float = false;
        if (at_ != end_ && *at_ == '.') {
            ++at_;
            if (!digits()) return false;
            is_float = true;
        }
        if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
            ++at_;
            if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
            if (!digits()) return false;
            is_float = true;
        }
        const std::string_view text(start, static_cast<std::size_t>(at_ - start));

        JsonValue number;
        number.kind = JsonKind::number;
        number.raw = text;
        if (!is_float &&
            integer(std::string_view(first_digit, static_cast<std::size_t>(at_ - first_digit)), negative, number)) {
            if (out != nullptr) *out = number;
            return true;
        }
        // strtod reads up to a NUL: copy the text out, on the stack when it is short. nlohmann
        // calls the same strtod (with the locale's decimal point; nginx runs in the C locale).
        char small[64];
        std::string large;
        const char *c_text = small;
        if (text.size() < sizeof small) {
            std::memcpy(small, text.data(), text.size());
            small[text.size()] = '\0';
        } else {
            large.assign(text);
            c_text = large.c_str();
        }
        const double value = std::strtod(c_text, nullptr);
        if (!std::isfinite(value)) return false;
        number.number = JsonNumber::floating;
        number.float_value = value;
        if (out != nullptr) *out = number;
        return true;
    }

    // Digits (and a sign) that fit nlohmann's integer types; false when they overflow.
    static bool integer(std::string_view digits, bool negative, JsonValue &number) noexcept {
        constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
        std::uint64_t magnitude = 0;
        for (char c : digits) {
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (magnitude > (kMax - d) / 10) return false;
            magnitude = magnitude * 10 + d;
        }
        if (!negative) {
            number.number = JsonNumber::unsigned_integer;
            number.unsigned_value = magnitude;
            return true;
        }
        constexpr std::uint64_t kMinMagnitude = std::uint64_t{1} << 63;  // -INT64_MIN
        if (magnitude > kMinMagnitude) return false;
        number.number = JsonNumber::integer;
        number.integer_value = magnitude == kMinMagnitude ? std::numeric_limits<std::int64_t>::min()
                                                          : -static_cast<std::int64_t>(magnitude);
        return true;
    }

    const char *at_;
    const char *end_;
    int max_depth_;
};

}  // namespace

std::string JsonValue::string() const {
    if (!escaped) return std::string(raw);
    std::string out;
    append_decoded(raw, out);
    return out;
}

std::string_view JsonValue::decoded(std::string &scratch) const {
    if (!escaped) return raw;
    decode_json_string(raw, scratch);
    return scratch;
}

bool JsonValue::string_equals(std::string_view s) const {
    if (kind != JsonKind::string) return false;
    if (!escaped) return raw == s;
    return string() == s;
}

double JsonValue::as_double() const noexcept {
    switch (number) {
    case JsonNumber::unsigned_integer:
        return static_cast<double>(unsigned_value);
    case JsonNumber::integer:
        return static_cast<double>(integer_value);
    case JsonNumber::floating:
        break;
    }
    return float_value;
}

bool JsonValue::empty_container() const noexcept {
    if (kind != JsonKind::array && kind != JsonKind::object) return false;
    std::size_t i = 1;
    while (i < raw.size() && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r')) {
        ++i;
    }
    return i + 1 == raw.size();
}

const JsonValue *JsonObject::find(std::string_view name) const noexcept {
    for (const JsonMember &member : *this) {
        if (member.name == name) return &member.value;
    }
    return nullptr;
}

JsonScan scan_json_object(std::string_view text, JsonObject &out, int max_depth) {
    const char *at = text.data();
    const char *const end = at + text.size();
    // nlohmann skips a UTF-8 byte order mark, only at the very start, and only a whole one.
    if (at != end && static_cast<unsigned char>(*at) == 0xEF) {
        if (text.size() < 3 || static_cast<unsigned char>(at[1]) != 0xBB || static_cast<unsigned char>(at[2]) != 0xBF) {
            return JsonScan::invalid;
        }
        at += 3;
    }
    Scanner scanner(at, end, max_depth);
    scanner.skip_blanks();
    JsonObjectBuilder members(out, text.size());
    const bool is_object = scanner.at() != end && *scanner.at() == '{';
    const bool valid = is_object ? scanner.object(0, nullptr, &members) : scanner.value(0, nullptr);
    if (!valid) return JsonScan::invalid;
    scanner.skip_blanks();
    // nlohmann reads a NUL byte where a token would start as the end of the input.
    if (scanner.at() != end && *scanner.at() != '\0') return JsonScan::invalid;
    if (!is_object) return JsonScan::not_object;
    return members.finish() ? JsonScan::object : JsonScan::invalid;
}

JsonArrayItems::JsonArrayItems(const JsonValue &array) noexcept
    : at_(array.raw.data()), end_(array.raw.data() + array.raw.size()) {
    if (array.kind != JsonKind::array || array.raw.size() < 2) {
        at_ = end_;
    } else {
        ++at_;   // past '['
        --end_;  // before ']'
    }
}

bool JsonArrayItems::next(JsonValue &item) noexcept {
    Scanner scanner(at_, end_, std::numeric_limits<int>::max());
    scanner.skip_blanks();
    if (scanner.at() != end_ && *scanner.at() == ',') {
        scanner.advance();
        scanner.skip_blanks();
    }
    if (scanner.at() == end_) {
        at_ = end_;
        return false;
    }
    // The array was validated by scan_json_object: its items scan again without failing, and
    // no deeper than they did then. Only a float's text of 64 bytes or more can allocate.
    bool ok = false;
    try {
        ok = scanner.value(0, &item);
    } catch (...) {
        ok = false;
    }
    at_ = ok ? scanner.at() : end_;
    return ok;
}

void decode_json_string(std::string_view raw, std::string &out) {
    out.clear();
    append_decoded(raw, out);
}

}  // namespace wa_pair
