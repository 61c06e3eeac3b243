// Fuzz target: the backend answer's reader (ResponseReader, src/backend/http1.hpp).
// Input: byte 0 chooses the cap (its top 2 bits) and the split patterns (the rest), then the
// answer's bytes (what nginx's upstream hands the module's process_header, which never tells
// the reader of a close). Invariants: the same result whether the answer comes whole, in two
// pieces, in pieces of 1..8 bytes, or byte by byte; when done, a final status of 200..999 and a
// body within the cap; when failed, one of our fixed texts, and no body read without framing;
// while unfinished, no error and no reuse; nothing changes after the end.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "backend/http1.hpp"
#include "check.hpp"

using namespace wa_pair;
using namespace wa_pair_fuzz;

namespace {

using State = ResponseReader::State;

// Every error() text of src/backend/http1.cpp.
const char *const kErrors[] = {
    "not an HTTP/1.x answer",
    "the status line is malformed",
    "the backend switched protocols",
    "a bare CR in the head",
    "a folded header line (obs-fold)",
    "a header line without a colon",
    "whitespace before a header colon",
    "a header name is malformed",
    "a control character in a header value",
    "the Content-Length is malformed",
    "Content-Length values differ",
    "unsupported transfer coding",
    "the chunk size is malformed",
    "the chunked body is malformed",
    "the head is larger than the buffer",
    "a chunk size line is larger than the buffer",
    "the body is larger than the buffer",
    "the answer has neither Content-Length nor chunked framing",
};

const std::string kNoFraming = "the answer has neither Content-Length nor chunked framing";

struct ReadResult {
    State state;
    int status;
    std::string body;
    std::string retry_after;
    bool keep_alive;
    bool too_large;
    std::string error;
};

std::string describe(const ReadResult &o) {
    return "state=" + std::to_string(static_cast<int>(o.state)) + " status=" + std::to_string(o.status) +
           " body=" + std::to_string(o.body.size()) + " keep_alive=" + std::to_string(o.keep_alive) +
           " too_large=" + std::to_string(o.too_large) + " error=" + o.error;
}

bool same(const ReadResult &a, const ReadResult &b) {
    return a.state == b.state && a.status == b.status && (a.state != State::done || a.body == b.body) &&
           a.retry_after == b.retry_after && a.keep_alive == b.keep_alive && a.too_large == b.too_large &&
           a.error == b.error;
}

ReadResult read(std::string_view text, size_t max, const std::vector<size_t> &sizes) {
    ResponseReader reader(max);
    size_t at = 0;
    for (size_t i = 0; at < text.size(); ++i) {
        const size_t n = std::min(sizes.empty() ? text.size() : sizes[i % sizes.size()], text.size() - at);
        const State s = reader.feed(text.data() + at, n);
        FUZZ_CHECK(s == reader.state(), "feed's answer is the state");
        at += n;
    }
    FUZZ_CHECK(reader.feed("", 0) == reader.state(), "an empty piece changes nothing");

    ReadResult o{reader.state(),      reader.status(),    reader.body(), std::string(reader.retry_after()),
                 reader.keep_alive(), reader.too_large(), reader.error()};

    // After the end: more bytes change the state, status and body no more.
    if (o.state != State::more) {
        FUZZ_CHECK(reader.feed("HTTP/1.1 200 OK\r\n\r\n", 19) == o.state, describe(o));
        FUZZ_CHECK(reader.status() == o.status && reader.body() == o.body && reader.error() == o.error, describe(o));
        FUZZ_CHECK(!reader.keep_alive(), "a byte after the end forbids reuse");
    }
    return o;
}

void check_alone(const ReadResult &o, size_t max) {
    if (o.state == State::done) {
        FUZZ_CHECK(o.status >= 200 && o.status <= 999, describe(o));
        FUZZ_CHECK(o.body.size() <= max, describe(o));
        FUZZ_CHECK(o.retry_after.size() <= max, describe(o));
        FUZZ_CHECK(!o.too_large && o.error.empty(), describe(o));
    } else if (o.state == State::failed) {
        FUZZ_CHECK(!o.keep_alive, describe(o));
        FUZZ_CHECK(printable(o.error), describe(o));
        bool known = false;
        for (const char *e : kErrors) known = known || o.error == e;
        FUZZ_CHECK(known, describe(o));
        // Refused at the end of a final head: no body byte was taken, and a status was read.
        FUZZ_CHECK(o.error != kNoFraming || (o.body.empty() && !o.too_large && o.status >= 200), describe(o));
    } else {
        FUZZ_CHECK(!o.keep_alive && !o.too_large && o.error.empty(), describe(o));
        FUZZ_CHECK(o.body.size() <= max, describe(o));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static constexpr size_t kCaps[] = {16384, 300, 64, 20};
    const size_t max = kCaps[data[0] >> 6];
    const unsigned pattern = data[0] & 63u;
    const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);

    const ReadResult whole = read(text, max, {});
    check_alone(whole, max);

    // Two pieces, at a point chosen by the first byte; and the same cut from the end.
    const size_t cut = text.empty() ? 0 : (pattern * 7919u) % (text.size() + 1);
    for (const size_t first : {cut, text.size() - cut}) {
        if (first == 0 || first == text.size()) continue;
        const ReadResult two = read(text, max, {first, text.size()});
        FUZZ_CHECK(same(two, whole), describe(two) + " vs whole " + describe(whole));
    }
    // Pieces of varying small sizes.
    const std::vector<size_t> sizes = {1 + pattern % 8, 1 + (pattern / 8) % 8, 3, 1};
    const ReadResult small = read(text, max, sizes);
    FUZZ_CHECK(same(small, whole), describe(small) + " vs whole " + describe(whole));
    if (text.size() <= 2048) {
        const ReadResult bytes = read(text, max, {1});
        FUZZ_CHECK(same(bytes, whole), describe(bytes) + " vs whole " + describe(whole));
    }
    return 0;
}
