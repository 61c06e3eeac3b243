// HTTP/1.1 framing of the backend exchange (RFC 9112): the request's bytes and an incremental
// reader of the answer. The reader scans with memchr and copies a line only when it is split
// across pieces; the usual answer (~150 bytes in one piece) costs no allocation besides the body.
#include "backend/http1.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include "common/ascii.hpp"

namespace wa_pair {
namespace {

constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

// Byte classes of RFC 9110: tchar (field names, codings), field-vchar (values: VCHAR, obs-text,
// and SP / HTAB inside).
enum : uint8_t { kToken = 1, kValue = 2 };

struct ByteClasses {
    uint8_t of[256] = {};
    constexpr ByteClasses() {
        for (int c = 0x21; c <= 0xff; ++c) of[c] = kValue;
        of[0x7f] = 0;
        of[' '] = kValue;
        of['\t'] = kValue;
        for (int c = '0'; c <= '9'; ++c) of[c] |= kToken;
        for (int c = 'a'; c <= 'z'; ++c) of[c] |= kToken;
        for (int c = 'A'; c <= 'Z'; ++c) of[c] |= kToken;
        for (const char c : std::string_view("!#$%&'*+-.^_`|~")) of[static_cast<uint8_t>(c)] |= kToken;
    }
};
constexpr ByteClasses kClasses;

inline bool is(char c, uint8_t cls) {
    return kClasses.of[static_cast<uint8_t>(c)] & cls;
}

bool all_of_class(std::string_view s, uint8_t cls) {
    for (const char c : s) {
        if (!is(c, cls)) return false;
    }
    return true;
}

// A field value's bytes, eight at a time: a word with no byte below 0x20 and no DEL is all
// field-vchar, SP or obs-text; a word with one (HTAB, or a control character) is looked at
// byte by byte. ("has a byte less than n" and "has a zero byte", Bit Twiddling Hacks.)
bool value_bytes(std::string_view s) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t x;
        std::memcpy(&x, s.data() + i, 8);
        const uint64_t del = x ^ (kOnes * 0x7f);
        if ((((x - kOnes * 0x20) & ~x) | ((del - kOnes) & ~del)) & kHigh) {
            if (!all_of_class(s.substr(i, 8), kValue)) return false;
        }
    }
    return all_of_class(s.substr(i), kValue);
}

using ascii::hex_value;
using ascii::is_blank;
using ascii::trim_blank;

// Calls f(element) for each element of a comma-separated list, trimmed; empty elements are
// skipped (RFC 9110 5.6.1). Stops at the first f that returns false, and says so.
template <class F>
bool for_each_element(std::string_view list, F f) {
    while (true) {
        const size_t comma = list.find(',');
        const std::string_view element = trim_blank(list.substr(0, comma));
        if (!element.empty() && !f(element)) return false;
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

// 1*DIGIT, saturated at kHuge (anything that large is over every cap anyway); none otherwise.
std::optional<uint64_t> parse_decimal(std::string_view s) {
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const unsigned d = static_cast<unsigned>(c - '0');
        v = (v > (kHuge - d) / 10) ? kHuge : v * 10 + d;
    }
    return v;
}

// The error texts: fixed, ours (see error()).
constexpr const char *kNotHttp1 = "not an HTTP/1.x answer";
constexpr const char *kBadStatusLine = "the status line is malformed";
constexpr const char *kSwitched = "the backend switched protocols";
constexpr const char *kBareCr = "a bare CR in the head";
constexpr const char *kFolded = "a folded header line (obs-fold)";
constexpr const char *kBadHeaderLine = "a header line without a colon";
constexpr const char *kSpaceBeforeColon = "whitespace before a header colon";
constexpr const char *kBadHeaderName = "a header name is malformed";
constexpr const char *kBadHeaderValue = "a control character in a header value";
constexpr const char *kBadLength = "the Content-Length is malformed";
constexpr const char *kLengthsDiffer = "Content-Length values differ";
constexpr const char *kBadCoding = "unsupported transfer coding";
constexpr const char *kBadChunkSize = "the chunk size is malformed";
constexpr const char *kBadChunked = "the chunked body is malformed";
constexpr const char *kHeadTooLarge = "the head is larger than the buffer";
constexpr const char *kChunkLineTooLarge = "a chunk size line is larger than the buffer";
constexpr const char *kBodyTooLarge = "the body is larger than the buffer";
constexpr const char *kNoFraming = "the answer has neither Content-Length nor chunked framing";

}  // namespace

void write_http_request(std::string &out, bool post, std::string_view target, std::string_view host,
                        const std::vector<Header> &headers, std::string_view body) {
    constexpr std::string_view kHost = "Host: ";
    constexpr std::string_view kAccept = "Accept: */*\r\n";
    constexpr std::string_view kVersion = " HTTP/1.1\r\n";
    constexpr std::string_view kLength = "Content-Length: ";
    const std::string_view method = post ? "POST " : "GET ";
    char digits[24];
    const std::string_view length(
        digits,
        post ? static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, body.size()).ptr - digits) : 0);

    // The exact size first, then one copy of each piece.
    bool has_host = false;
    bool has_accept = false;
    size_t size = method.size() + target.size() + kVersion.size() + 2;
    for (const Header &h : headers) {
        has_host = has_host || ascii::iequals(h.name, "host");
        has_accept = has_accept || ascii::iequals(h.name, "accept");
        if (!h.value.empty()) size += h.name.size() + 2 + h.value.size() + 2;
    }
    if (!has_host) size += kHost.size() + host.size() + 2;
    if (!has_accept) size += kAccept.size();
    if (post) size += kLength.size() + length.size() + 2 + body.size();

    const size_t at = out.size();
    out.resize(at + size);
    char *p = &out[at];
    auto put = [&p](std::string_view piece) {
        std::memcpy(p, piece.data(), piece.size());
        p += piece.size();
    };
    put(method);
    put(target);
    put(kVersion);
    if (!has_host) {
        put(kHost);
        put(host);
        put("\r\n");
    }
    if (!has_accept) put(kAccept);
    for (const Header &h : headers) {
        if (h.value.empty()) continue;
        put(h.name);
        put(": ");
        put(h.value);
        put("\r\n");
    }
    if (post) {
        put(kLength);
        put(length);
        put("\r\n");
    }
    put("\r\n");
    if (post) put(body);
}

void ResponseReader::reset(size_t max_bytes) noexcept {
    // The buffers keep their capacity for the next answer on this connection.
    std::string body = std::move(body_);
    std::string retry_after = std::move(retry_after_);
    std::string request_id = std::move(request_id_);
    std::string line = std::move(line_);
    *this = ResponseReader(max_bytes);
    body.clear();
    retry_after.clear();
    request_id.clear();
    line.clear();
    body_ = std::move(body);
    retry_after_ = std::move(retry_after);
    request_id_ = std::move(request_id);
    line_ = std::move(line);
}

void ResponseReader::fail(const char *why, bool too_large) noexcept {
    state_ = State::failed;
    error_ = why;
    too_large_ = too_large;
}

bool ResponseReader::keep_alive() const noexcept {
    return state_ == State::done && !extra_ && !conn_close_ && (!http10_ || conn_keep_alive_) &&
           !(chunked_ && has_length_);
}

bool ResponseReader::next_line(const char *&p, const char *end, std::string_view &line) {
    // Head lines share one cap; a chunk-size line has the whole cap to itself.
    const bool head = phase_ != Phase::chunk_size;
    const size_t room = head ? max_ - head_bytes_ : max_;
    const void *lf = std::memchr(p, '\n', static_cast<size_t>(end - p));
    const size_t n = lf ? static_cast<size_t>(static_cast<const char *>(lf) - p) + 1 : static_cast<size_t>(end - p);
    if (line_.size() + n > room) {
        fail(head ? kHeadTooLarge : kChunkLineTooLarge, true);
        return false;
    }
    if (lf == nullptr) {
        if (line_.capacity() == 0) line_.reserve(std::min<size_t>(max_, 256));
        line_.append(p, n);
        p = end;
        return false;
    }
    if (head) head_bytes_ += line_.size() + n;
    if (line_.empty()) {
        line = std::string_view(p, n - 1);
    } else {
        line_.append(p, n - 1);
        line = line_;
    }
    p += n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
}

ResponseReader::State ResponseReader::feed(const char *data, size_t len) {
    if (state_ != State::more) {
        if (state_ == State::done && len > 0) extra_ = true;
        return state_;
    }
    const char *p = data;
    const char *const end = data + len;
    while (state_ == State::more && p < end) {
        switch (phase_) {
        case Phase::status_line:
        case Phase::header:
        case Phase::chunk_size:
        case Phase::trailer: {
            std::string_view line;
            if (!next_line(p, end, line)) break;
            if (phase_ == Phase::chunk_size) {
                chunk_size_line(line);
            } else if (std::memchr(line.data(), '\r', line.size()) != nullptr) {
                fail(kBareCr);
            } else if (phase_ == Phase::status_line) {
                status_line(line);
            } else if (!line.empty()) {
                header_line(line);
            } else if (phase_ == Phase::header) {
                end_of_head();
            } else {
                finish();  // the empty line after the trailers
            }
            line_.clear();
            break;
        }
        case Phase::body_length:
        case Phase::chunk_data: {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, static_cast<uint64_t>(end - p)));
            body_.append(p, n);
            p += n;
            remaining_ -= n;
            if (remaining_ == 0) {
                if (phase_ == Phase::body_length) {
                    finish();
                } else {
                    phase_ = Phase::chunk_data_end;
                    after_cr_ = false;
                }
            }
            break;
        }
        case Phase::chunk_data_end:
            if (*p == '\n') {
                phase_ = Phase::chunk_size;
            } else if (*p == '\r' && !after_cr_) {
                after_cr_ = true;
            } else {
                fail(kBadChunked);
                break;
            }
            ++p;
            break;
        }
    }
    if (state_ == State::done && p < end) extra_ = true;
    return state_;
}

void ResponseReader::status_line(std::string_view line) {
    // HTTP-version SP 3DIGIT [ SP reason-phrase ]; the reason may also be absent, as libcurl allows.
    if (line.size() < 8 || line.compare(0, 7, "HTTP/1.") != 0 || (line[7] != '0' && line[7] != '1')) {
        fail(kNotHttp1);
        return;
    }
    if (line.size() < 12 || line[8] != ' ' || line[9] < '1' || line[9] > '9' || line[10] < '0' || line[10] > '9' ||
        line[11] < '0' || line[11] > '9' || (line.size() > 12 && (line[12] != ' ' || !value_bytes(line.substr(13))))) {
        fail(kBadStatusLine);
        return;
    }
    const int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status == 101) {
        fail(kSwitched);
        return;
    }
    interim_ = status < 200;
    if (!interim_) {
        status_ = status;
        http10_ = line[7] == '0';
    }
    phase_ = Phase::header;
}

void ResponseReader::header_line(std::string_view line) {
    if (is_blank(line[0])) {
        fail(kFolded);
        return;
    }
    const void *colon = std::memchr(line.data(), ':', line.size());
    if (colon == nullptr) {
        fail(kBadHeaderLine);
        return;
    }
    const std::string_view name = line.substr(0, static_cast<size_t>(static_cast<const char *>(colon) - line.data()));
    if (name.empty() || !all_of_class(name, kToken)) {
        fail(!name.empty() && is_blank(name.back()) ? kSpaceBeforeColon : kBadHeaderName);
        return;
    }
    const std::string_view raw = line.substr(name.size() + 1);
    if (!value_bytes(raw)) {
        fail(kBadHeaderValue);
        return;
    }
    // Interim heads and trailers are read for their syntax only.
    if (interim_ || phase_ == Phase::trailer) return;
    const std::string_view value = trim_blank(raw);

    switch (name.size()) {
    case 14:
        if (ascii::iequals(name, "content-length")) {
            // 1*DIGIT, or a list of the same value ("5, 5") as some proxies join repeated headers.
            bool any = false;
            const bool ok = for_each_element(value, [&](std::string_view element) {
                const std::optional<uint64_t> n = parse_decimal(element);
                if (!n) {
                    fail(kBadLength);
                    return false;
                }
                if (has_length_ && *n != content_length_) {
                    fail(kLengthsDiffer);
                    return false;
                }
                has_length_ = any = true;
                content_length_ = *n;
                return true;
            });
            if (ok && !any) fail(kBadLength);  // empty, or only commas
        }
        break;
    case 17:
        if (ascii::iequals(name, "transfer-encoding")) {
            // Only "chunked", once: we decode no other coding, and a body in some coding we
            // ignore would be misread.
            bool any = false;
            const bool ok = for_each_element(value, [&](std::string_view coding) {
                if (chunked_ || !ascii::iequals(coding, "chunked")) return false;
                chunked_ = any = true;
                return true;
            });
            if (!ok || !any) fail(kBadCoding);
        }
        break;
    case 10:
        if (ascii::iequals(name, "connection")) {
            for_each_element(value, [&](std::string_view option) {
                if (ascii::iequals(option, "close")) conn_close_ = true;
                if (ascii::iequals(option, "keep-alive")) conn_keep_alive_ = true;
                return true;
            });
        }
        break;
    case 11:
        if (!has_retry_after_ && ascii::iequals(name, "retry-after")) {
            has_retry_after_ = true;
            retry_after_.assign(value.data(), value.size());
        }
        break;
    case 12:
        if (!has_request_id_ && ascii::iequals(name, "x-request-id")) {
            has_request_id_ = true;
            request_id_.assign(value.data(), value.size());
        }
        break;
    default:
        break;
    }
}

void ResponseReader::end_of_head() {
    if (interim_) {
        interim_ = false;
        phase_ = Phase::status_line;
        return;
    }
    if (status_ == 204 || status_ == 304) {
        finish();
    } else if (chunked_) {
        phase_ = Phase::chunk_size;
    } else if (has_length_) {
        if (content_length_ > max_) {
            fail(kBodyTooLarge, true);
        } else if (content_length_ == 0) {
            finish();
        } else {
            remaining_ = content_length_;
            body_.reserve(static_cast<size_t>(content_length_));
            phase_ = Phase::body_length;
        }
    } else {
        // A body delimited by the close: nginx reports a close as an error, so such an answer
        // could never be told whole from cut short.
        fail(kNoFraming);
    }
}

void ResponseReader::chunk_size_line(std::string_view line) {
    // chunk-size [ BWS ";" chunk-ext ] (RFC 9112 7.1.1): extensions are skipped, not parsed,
    // but must be field-vchar text. At most 16 digits, as libcurl: no overflow, and no answer
    // of ours is refused by it for a size it would not read.
    uint64_t size = 0;
    size_t i = 0;
    for (int d; i < line.size() && (d = hex_value(line[i])) >= 0; ++i) {
        if (i == 16) {
            fail(kBadChunkSize);
            return;
        }
        size = (size << 4) | static_cast<unsigned>(d);
    }
    if (i == 0) {
        fail(kBadChunkSize);
        return;
    }
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i < line.size() && (line[i] != ';' || !all_of_class(line.substr(i), kValue))) {
        fail(kBadChunked);
        return;
    }
    if (size == 0) {
        phase_ = Phase::trailer;
    } else if (size > max_ - body_.size()) {
        fail(kBodyTooLarge, true);
    } else {
        remaining_ = size;
        if (body_.capacity() == 0) body_.reserve(static_cast<size_t>(size));
        phase_ = Phase::chunk_data;
    }
}

}  // namespace wa_pair
