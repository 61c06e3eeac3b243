// HTTP/1.1 on the wire to the pairing backend (RFC 9112): the bytes of the module's request,
// and an incremental reader of the engine's answer. nginx's upstream machinery connects, sends
// and receives; the module's process_header callback (src/nginx/ngx_wa_pair_upstream.cpp) feeds what
// arrives to the reader until the whole answer is read, then answers the client with its own
// envelope, never with the engine's bytes. Pure C++: unit-tested and fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backend/protocol.hpp"

namespace wa_pair {

// Appends the request to `out`:
//   "POST <target> HTTP/1.1" (or GET), "Host: <host>" unless `headers` has a Host,
//   "Accept: */*" unless `headers` has an Accept, then `headers` in order (a header with an
//   empty value is not sent), "Content-Length: <n>" for a POST, an empty line, the body
//   (a GET sends neither Content-Length nor body).
// `target` is the origin-form ("/v1/pair-code?x=1"); names and values are already checked
// (check_header_name, valid_header_value). Throws only std::bad_alloc.
void write_http_request(std::string &out, bool post, std::string_view target, std::string_view host,
                        const std::vector<Header> &headers, std::string_view body);

// Reads one answer, fed in pieces as they arrive. The connection's close is no event here (nginx
// reports it as an upstream error), so an answer must say where it ends: a final answer that may
// have a body needs a Content-Length or chunked framing, and is refused as soon as its head is
// read without either; a 204 or 304 ends with its head; interim (1xx) heads are skipped.
// Lenient where common clients are (a bare LF ends a line; the reason phrase may be absent),
// strict where a lenient reader could be fooled (conflicting Content-Length, obs-fold, a bad
// chunk): those fail.
class ResponseReader {
public:
    enum class State { more, done, failed };

    // `max_bytes` caps the head (every head line, interim 1xx heads and chunked trailers
    // included) and, separately, the body (after de-chunking): wa_pair_backend_buffer_size.
    explicit ResponseReader(size_t max_bytes = 16384) noexcept : max_(max_bytes) {}

    // Forgets everything read, for the next answer.
    void reset(size_t max_bytes) noexcept;

    // Consumes `data`. `more` until the whole answer is read (the rest is still to come: if
    // the connection closes now, the answer is cut short). `done` once it is: bytes after its end
    // are not consumed and make keep_alive() false. `failed` on a protocol error, an answer
    // without framing, or when over the cap. Once done or failed, later calls change nothing
    // and return the same (but bytes after a done answer still make keep_alive() false).
    // Throws only std::bad_alloc.
    State feed(const char *data, size_t len);

    State state() const noexcept { return state_; }
    int status() const noexcept { return status_; }                         // of the final (non-1xx) answer
    std::string_view retry_after() const noexcept { return retry_after_; }  // first, trimmed
    // The first X-Request-ID, trimmed: a native engine echoes its request's, which tells an
    // answer from a stray one (another request's, on a kept connection).
    bool has_request_id() const noexcept { return has_request_id_; }
    std::string_view request_id() const noexcept { return request_id_; }
    const std::string &body() const noexcept { return body_; }
    // May the connection carry another request: HTTP/1.1 without "Connection: close", or
    // HTTP/1.0 with "Connection: keep-alive"; not both Content-Length and chunked; no bytes
    // after the answer.
    bool keep_alive() const noexcept;
    bool too_large() const noexcept { return too_large_; }
    // Why it failed, in our own words, for the error log (never the backend's bytes).
    const char *error() const noexcept { return error_; }

private:
    // Where the next byte belongs.
    enum class Phase : uint8_t {
        status_line,     // of an interim (1xx) or the final answer
        header,          // a header line, or the empty line ending the head
        body_length,     // Content-Length bytes
        chunk_size,      // a chunk-size line (extensions ignored)
        chunk_data,      // the chunk's bytes
        chunk_data_end,  // the CRLF (or LF) after them
        trailer,         // a trailer field, or the empty line ending the answer
    };

    // A whole line from [p, end) (its CR LF or LF dropped), joined with the part kept in
    // line_ from earlier calls; false when it goes on in a later piece (kept) or is over the cap.
    bool next_line(const char *&p, const char *end, std::string_view &line);
    void status_line(std::string_view line);
    void header_line(std::string_view line);
    void end_of_head();
    void chunk_size_line(std::string_view line);
    void fail(const char *why, bool too_large = false) noexcept;
    void finish() noexcept { state_ = State::done; }

    size_t max_;
    State state_ = State::more;
    int status_ = 0;
    std::string retry_after_;
    std::string request_id_;
    std::string body_;
    bool too_large_ = false;
    const char *error_ = "";

    Phase phase_ = Phase::status_line;
    std::string line_;             // a line split across pieces, so far
    size_t head_bytes_ = 0;        // head lines of every head, and trailer lines
    uint64_t remaining_ = 0;       // of the Content-Length body, or of the chunk
    uint64_t content_length_ = 0;  // saturated at UINT64_MAX
    bool interim_ = false;         // the head being read is a 1xx one
    bool http10_ = false;
    bool has_length_ = false;
    bool chunked_ = false;
    bool conn_close_ = false;
    bool conn_keep_alive_ = false;
    bool has_retry_after_ = false;
    bool has_request_id_ = false;
    bool after_cr_ = false;  // chunk_data_end: the CR came, the LF is due
    bool extra_ = false;     // bytes came after the end of the answer
};

}  // namespace wa_pair
