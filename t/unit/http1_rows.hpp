// Backend answers with what ResponseReader must make of them: the table of http1_test.cpp,
// served to libcurl by http1_curl_diff_test.cpp too. And one way to read an answer in pieces.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "backend/http1.hpp"

namespace wa_pair::http1_rows {

using namespace std::string_literals;
using State = ResponseReader::State;

// What a reader ended with once the bytes ran out: state `more` when the answer is unfinished
// (it waits for the rest; a close then is nginx's to report, not the reader's).
struct Result {
    State state = State::more;
    int status = 0;
    std::string body;  // compared when done only: a failed read may stop anywhere
    std::string retry_after;
    bool keep_alive = false;
    bool too_large = false;
    std::string error;

    bool operator==(const Result &o) const {
        return state == o.state && status == o.status && (state != State::done || body == o.body) &&
               retry_after == o.retry_after && keep_alive == o.keep_alive && too_large == o.too_large &&
               error == o.error;
    }
};

inline std::ostream &operator<<(std::ostream &os, const Result &r) {
    static const char *const states[] = {"more", "done", "failed"};
    return os << "{" << states[static_cast<int>(r.state)] << " status=" << r.status
              << " body=" << testing::PrintToString(r.body) << " retry_after=" << testing::PrintToString(r.retry_after)
              << " keep_alive=" << r.keep_alive << " too_large=" << r.too_large << " error=\"" << r.error << "\"}";
}

inline Result result_of(const ResponseReader &reader) {
    Result r;
    r.state = reader.state();
    r.status = reader.status();
    r.body = reader.body();
    r.retry_after = std::string(reader.retry_after());
    r.keep_alive = reader.keep_alive();
    r.too_large = reader.too_large();
    r.error = reader.error();
    return r;
}

// Feeds `text` cut at `cuts` (ascending offsets).
inline Result read_cut(std::string_view text, const std::vector<size_t> &cuts, size_t max,
                       ResponseReader *reuse = nullptr) {
    ResponseReader own(max);
    ResponseReader &reader = reuse ? *reuse : own;
    size_t at = 0;
    for (const size_t cut : cuts) {
        reader.feed(text.data() + at, cut - at);
        at = cut;
    }
    reader.feed(text.data() + at, text.size() - at);
    return result_of(reader);
}

inline Result read_whole(std::string_view text, size_t max) {
    return read_cut(text, {}, max);
}

inline Result read_bytewise(std::string_view text, size_t max) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < text.size(); ++i) cuts.push_back(i);
    return read_cut(text, cuts, max);
}

struct Row {
    const char *name;
    std::string text;
    Result expected;
    size_t max = 16384;
};

inline void PrintTo(const Row &row, std::ostream *os) {
    *os << row.name;
}

inline Result ok(int status, std::string body, bool keep_alive, std::string retry_after = "") {
    Result r;
    r.state = State::done;
    r.status = status;
    r.body = std::move(body);
    r.keep_alive = keep_alive;
    r.retry_after = std::move(retry_after);
    return r;
}

// status: what the reader had read of the final status line when it failed (0: none).
inline Result bad(const char *error, int status = 0, bool too_large = false, std::string retry_after = "") {
    Result r;
    r.state = State::failed;
    r.status = status;
    r.error = error;
    r.too_large = too_large;
    r.retry_after = std::move(retry_after);
    return r;
}

inline Result too_large(const char *error, int status) {
    return bad(error, status, true);
}

// The bytes ran out before the end of the answer. status: of the final head, when read.
inline Result unfinished(int status = 0) {
    Result r;
    r.status = status;
    return r;
}

constexpr const char *kNoFraming = "the answer has neither Content-Length nor chunked framing";

const std::string kJson = R"({"pair_code":"ABCD-1234","timeout":120})";

// A head of exactly `size` bytes (size >= 64): status line, X-Pad header, Content-Length: 2.
inline std::string head_of_size(size_t size) {
    const std::string start = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ";
    const std::string end = "\r\n\r\n";
    return start + std::string(size - start.size() - end.size(), 'p') + end;
}

inline std::vector<Row> rows() {
    const std::string ok200 = "HTTP/1.1 200 OK\r\n";
    std::vector<Row> t = {
        // Length-delimited answers
        {"plain", ok200 + "Content-Type: application/json\r\nContent-Length: 39\r\n\r\n" + kJson, ok(200, kJson, true)},
        {"bare_lf_lines", "HTTP/1.1 200 OK\nContent-Length: 39\n\n" + kJson, ok(200, kJson, true)},
        {"mixed_line_ends", "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", ok(200, "ok", true)},
        {"no_reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", ok(200, "ok", true)},
        {"empty_reason", "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok", ok(200, "ok", true)},
        {"reason_with_tab_and_obs_text", "HTTP/1.1 200 Fine\tok \xC3\xA9\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"status_599", "HTTP/1.1 599 Odd\r\nContent-Length: 1\r\n\r\nx", ok(599, "x", true)},
        {"status_999", "HTTP/1.1 999 Odd\r\nContent-Length: 1\r\n\r\nx", ok(999, "x", true)},
        {"content_length_zero", ok200 + "Content-Length: 0\r\n\r\n", ok(200, "", true)},
        {"content_length_leading_zeros", ok200 + "Content-Length: 0002\r\n\r\nok", ok(200, "ok", true)},
        {"content_length_repeated", ok200 + "Content-Length: 2\r\ncontent-length:2\r\n\r\nok", ok(200, "ok", true)},
        {"content_length_list", ok200 + "Content-Length: 2, 2 ,2\r\n\r\nok", ok(200, "ok", true)},
        {"content_length_blanks", ok200 + "Content-Length:\t 2 \t\r\n\r\nok", ok(200, "ok", true)},
        {"header_names_any_case", ok200 + "CONTENT-LENGTH: 2\r\nCoNnEcTiOn: CLOSE\r\n\r\nok", ok(200, "ok", false)},
        {"empty_header_value", ok200 + "X-Empty:\r\nX-Blank:   \r\nContent-Length: 2\r\n\r\nok", ok(200, "ok", true)},
        {"obs_text_and_tab_in_value", ok200 + "X-A: caf\xC3\xA9\there\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"token_characters_in_name", ok200 + "X!#$%&'*+-.^_`|~9: v\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"colon_in_value", ok200 + "Date: Tue, 15 Nov 1994 08:12:31 GMT\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"bytes_after_the_body", ok200 + "Content-Length: 2\r\n\r\nokEXTRA", ok(200, "ok", false)},
        {"answer_after_the_answer", ok200 + "Content-Length: 2\r\n\r\nok" + ok200 + "Content-Length: 0\r\n\r\n",
         ok(200, "ok", false)},
        {"binary_body", ok200 + "Content-Length: 4\r\n\r\n\0\r\n\xff"s, ok(200, "\0\r\n\xff"s, true)},
        // Connection and versions
        {"connection_close", ok200 + "Connection: close\r\nContent-Length: 2\r\n\r\nok", ok(200, "ok", false)},
        {"connection_list_with_close", ok200 + "Connection: keep-alive, Upgrade ,close\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", false)},
        {"connection_keep_alive_11", ok200 + "Connection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"connection_not_close_token", ok200 + "Connection: closed, x-close\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"http10_length", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", ok(200, "ok", false)},
        {"http10_keep_alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"http10_keep_alive_and_close",
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", false)},
        {"http10_connection_close_length", "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
         ok(200, "ok", false)},
        {"connection_close_length_zero", ok200 + "Connection: close\r\nContent-Length: 0\r\n\r\n", ok(200, "", false)},
        {"connection_close_chunked",
         ok200 + "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", ok(200, "ok", false)},
        // No body
        {"status_204_ignores_length", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", ok(204, "", true)},
        {"status_204_no_length", "HTTP/1.1 204 No Content\r\n\r\n", ok(204, "", true)},
        {"status_304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999\r\n\r\n", ok(304, "", true)},
        {"status_204_then_bytes", "HTTP/1.1 204 No Content\r\n\r\nx", ok(204, "", false)},
        {"status_304_no_length", "HTTP/1.1 304 Not Modified\r\n\r\n", ok(304, "", true)},
        {"status_204_connection_close", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", ok(204, "", false)},
        {"status_304_http10", "HTTP/1.0 304 Not Modified\r\n\r\n", ok(304, "", false)},
        {"status_204_http10_keep_alive", "HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n",
         ok(204, "", true)},
        {"continue_then_204", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", ok(204, "", true)},
        // Interim answers
        {"continue_then_200", "HTTP/1.1 100 Continue\r\n\r\n" + ok200 + "Content-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"two_interims",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + ok200 + "Content-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"early_hints_headers_ignored",
         "HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\nContent-Length: 7\r\nConnection: "
         "close\r\nRetry-After: 9\r\n\r\n" +
             ok200 + "Content-Length: 2\r\n\r\nok",
         ok(200, "ok", true)},
        {"interim_bare_lf", "HTTP/1.1 100 Continue\n\nHTTP/1.1 200\nContent-Length: 2\n\nok", ok(200, "ok", true)},
        // Retry-After
        {"retry_after", "HTTP/1.1 429 Too Many Requests\r\nRetry-After:  120 \t\r\nContent-Length: 0\r\n\r\n",
         ok(429, "", true, "120")},
        {"retry_after_first_one",
         "HTTP/1.1 429 Too Many Requests\r\nretry-after: 5\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
         ok(429, "", true, "5")},
        {"retry_after_date",
         "HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\nContent-Length: 0\r\n\r\n",
         ok(503, "", true, "Fri, 31 Dec 1999 23:59:59 GMT")},
        // Chunked
        {"chunked", ok200 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
         ok(200, "hello world", true)},
        {"chunked_bare_lf", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n", ok(200, "hello", true)},
        {"chunked_upper_hex_leading_zeros",
         ok200 + "Transfer-Encoding: chunked\r\n\r\n000000000000000A\r\n0123456789\r\n0\r\n\r\n",
         ok(200, "0123456789", true)},
        {"chunked_lower_hex", ok200 + "Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n000\r\n\r\n",
         ok(200, "0123456789", true)},
        {"chunked_extensions", ok200 + "Transfer-Encoding: chunked\r\n\r\n5;a=b;c=\"d e\"\r\nhello\r\n0 ; last\r\n\r\n",
         ok(200, "hello", true)},
        {"chunked_trailers",
         ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\nX-Other: two\r\n\r\n",
         ok(200, "ok", true)},
        {"chunked_trailer_retry_after_ignored",
         ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nRetry-After: 5\r\n\r\n", ok(200, "ok", true)},
        {"chunked_data_with_crlf", ok200 + "Transfer-Encoding: chunked\r\n\r\n4\r\n\r\n\r\n\r\n0\r\n\r\n",
         ok(200, "\r\n\r\n", true)},
        {"chunked_empty", ok200 + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ok(200, "", true)},
        {"transfer_encoding_case_and_blanks", ok200 + "Transfer-Encoding:  ChUnKeD \r\n\r\n2\r\nok\r\n0\r\n\r\n",
         ok(200, "ok", true)},
        {"transfer_encoding_empty_elements", ok200 + "Transfer-Encoding: , chunked,\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         ok(200, "ok", true)},
        {"chunked_wins_over_length",
         ok200 + "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", ok(200, "ok", false)},
        {"chunked_http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         ok(200, "ok", false)},
        {"chunked_then_bytes", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nX", ok(200, "ok", false)},

        // Unfinished: the bytes stop before the end of the answer (a close there is nginx's
        // "upstream prematurely closed connection")
        {"nothing", "", unfinished()},
        {"unfinished_status_line", "HTTP/1.1 20", unfinished()},
        {"unfinished_head", ok200 + "Content-Length: 2\r\n", unfinished(200)},
        {"unfinished_head_no_framing_yet", ok200 + "Content-Type: application/json\r\n", unfinished(200)},
        {"unfinished_body", ok200 + "Content-Length: 20\r\n\r\nshort", unfinished(200)},
        {"unfinished_after_interim", "HTTP/1.1 100 Continue\r\n\r\n", unfinished()},
        {"unfinished_chunk", ok200 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel", unfinished(200)},
        {"unfinished_before_last_chunk", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", unfinished(200)},
        {"unfinished_trailers", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n", unfinished(200)},
        {"http09_body", "{\"pair_code\":\"x\"}", unfinished()},  // no line end yet
        // Refused: no framing, so the end of the body could only be the close (refused at the
        // end of the head, before any body byte)
        {"http10_no_length", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + kJson, bad(kNoFraming, 200)},
        {"http10_keep_alive_no_length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n" + kJson,
         bad(kNoFraming, 200)},
        {"http11_no_length", ok200 + "\r\n" + kJson, bad(kNoFraming, 200)},
        {"no_framing_head_only", ok200 + "Content-Type: application/json\r\n\r\n", bad(kNoFraming, 200)},
        {"connection_close_no_length", ok200 + "Connection: close\r\n\r\n", bad(kNoFraming, 200)},
        {"no_framing_after_interim", "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n" + ok200 + "\r\nok",
         bad(kNoFraming, 200)},
        {"no_framing_500", "HTTP/1.1 500 Internal Server Error\r\n\r\n", bad(kNoFraming, 500)},
        {"no_framing_205", "HTTP/1.1 205 Reset Content\r\n\r\n", bad(kNoFraming, 205)},  // not bodiless by framing
        {"no_framing_keeps_retry_after", "HTTP/1.1 429 Slow\r\nRetry-After: 3\r\n\r\n",
         bad(kNoFraming, 429, false, "3")},
        // Refused: the status line
        {"http2", "HTTP/2 200\r\n\r\n", bad("not an HTTP/1.x answer")},
        {"http12", "HTTP/1.2 200 OK\r\n\r\n", bad("not an HTTP/1.x answer")},
        {"http09_body_line", "{\"pair_code\":\"x\"}\n", bad("not an HTTP/1.x answer")},
        {"lower_case_version", "http/1.1 200 OK\r\n\r\n", bad("not an HTTP/1.x answer")},
        {"icy", "ICY 200 OK\r\n\r\n", bad("not an HTTP/1.x answer")},
        {"version_only", "HTTP/1.1\r\n\r\n", bad("the status line is malformed")},
        {"leading_empty_line", "\r\n" + ok200 + "Content-Length: 0\r\n\r\n", bad("not an HTTP/1.x answer")},
        {"two_digit_status", "HTTP/1.1 20 OK\r\n\r\n", bad("the status line is malformed")},
        {"four_digit_status", "HTTP/1.1 2000 OK\r\n\r\n", bad("the status line is malformed")},
        {"status_below_100", "HTTP/1.1 099 Low\r\n\r\n", bad("the status line is malformed")},
        {"no_space_before_reason", "HTTP/1.1 200OK\r\n\r\n", bad("the status line is malformed")},
        {"two_spaces_before_status", "HTTP/1.1  200 OK\r\n\r\n", bad("the status line is malformed")},
        {"tab_before_status", "HTTP/1.1\t200 OK\r\n\r\n", bad("the status line is malformed")},
        {"letter_in_status", "HTTP/1.1 2x0 OK\r\n\r\n", bad("the status line is malformed")},
        {"control_in_reason", "HTTP/1.1 200 O\x01K\r\n\r\n", bad("the status line is malformed")},
        {"nul_in_reason", "HTTP/1.1 200 O\0K\r\n\r\n"s, bad("the status line is malformed")},
        {"switching_protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
         bad("the backend switched protocols")},
        // Refused: CR where it does not end a line
        {"bare_cr_in_status_line", "HTTP/1.1 200 O\rK\r\n\r\n", bad("a bare CR in the head")},
        {"bare_cr_line_end", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", bad("a bare CR in the head")},
        {"bare_cr_in_value", ok200 + "X-A: a\rb\r\nContent-Length: 0\r\n\r\n", bad("a bare CR in the head", 200)},
        {"cr_cr_lf", ok200 + "Content-Length: 0\r\r\n\r\n", bad("a bare CR in the head", 200)},
        {"bare_cr_empty_line", ok200 + "Content-Length: 0\r\n\r\r\n", bad("a bare CR in the head", 200)},
        // Refused: header lines
        {"obs_fold", ok200 + "X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", bad("a folded header line (obs-fold)", 200)},
        {"obs_fold_tab", ok200 + "X-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
         bad("a folded header line (obs-fold)", 200)},
        {"space_first_header", ok200 + " X-A: a\r\nContent-Length: 0\r\n\r\n",
         bad("a folded header line (obs-fold)", 200)},
        {"space_before_colon", ok200 + "Content-Length : 0\r\n\r\n", bad("whitespace before a header colon", 200)},
        {"tab_before_colon", ok200 + "X-A\t: 1\r\nContent-Length: 0\r\n\r\n",
         bad("whitespace before a header colon", 200)},
        {"no_colon", ok200 + "Content-Length 0\r\n\r\n", bad("a header line without a colon", 200)},
        {"empty_name", ok200 + ": v\r\nContent-Length: 0\r\n\r\n", bad("a header name is malformed", 200)},
        {"separator_in_name", ok200 + "X(a): v\r\nContent-Length: 0\r\n\r\n", bad("a header name is malformed", 200)},
        {"space_in_name", ok200 + "X A: v\r\nContent-Length: 0\r\n\r\n", bad("a header name is malformed", 200)},
        {"obs_text_in_name", ok200 + "X-\xC3\xA9: v\r\nContent-Length: 0\r\n\r\n",
         bad("a header name is malformed", 200)},
        {"nul_in_value", ok200 + "X-A: a\0b\r\nContent-Length: 0\r\n\r\n"s,
         bad("a control character in a header value", 200)},
        {"control_in_value", ok200 + "X-A: a\x1b[31m\r\nContent-Length: 0\r\n\r\n",
         bad("a control character in a header value", 200)},
        {"del_in_value", ok200 + "X-A: a\x7f\r\nContent-Length: 0\r\n\r\n",
         bad("a control character in a header value", 200)},
        {"bad_header_in_interim", "HTTP/1.1 100 Continue\r\nX A: 1\r\n\r\n" + ok200 + "Content-Length: 0\r\n\r\n",
         bad("a header name is malformed")},
        // Refused: Content-Length
        {"length_not_digits", ok200 + "Content-Length: abc\r\n\r\n", bad("the Content-Length is malformed", 200)},
        {"length_negative", ok200 + "Content-Length: -1\r\n\r\n", bad("the Content-Length is malformed", 200)},
        {"length_plus", ok200 + "Content-Length: +2\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"length_hex", ok200 + "Content-Length: 0x2\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"length_empty", ok200 + "Content-Length:\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"length_commas_only", ok200 + "Content-Length: , ,\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"length_two_numbers", ok200 + "Content-Length: 2 2\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"length_trailing_junk", ok200 + "Content-Length: 2;\r\n\r\nok", bad("the Content-Length is malformed", 200)},
        {"lengths_differ", ok200 + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nok",
         bad("Content-Length values differ", 200)},
        {"lengths_differ_in_list", ok200 + "Content-Length: 2, 3\r\n\r\nok", bad("Content-Length values differ", 200)},
        {"length_overflow", ok200 + "Content-Length: 99999999999999999999999999\r\n\r\n",
         too_large("the body is larger than the buffer", 200)},
        {"lengths_differ_with_chunked",
         ok200 + "Content-Length: 2\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         bad("Content-Length values differ", 200)},
        // Refused: Transfer-Encoding
        {"coding_gzip", ok200 + "Transfer-Encoding: gzip\r\n\r\nok", bad("unsupported transfer coding", 200)},
        {"coding_gzip_chunked", ok200 + "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         bad("unsupported transfer coding", 200)},
        {"coding_chunked_gzip", ok200 + "Transfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         bad("unsupported transfer coding", 200)},
        {"coding_chunked_twice",
         ok200 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         bad("unsupported transfer coding", 200)},
        {"coding_identity", ok200 + "Transfer-Encoding: identity\r\nContent-Length: 2\r\n\r\nok",
         bad("unsupported transfer coding", 200)},
        {"coding_empty", ok200 + "Transfer-Encoding:\r\nContent-Length: 2\r\n\r\nok",
         bad("unsupported transfer coding", 200)},
        {"coding_parameter", ok200 + "Transfer-Encoding: chunked;q=1\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         bad("unsupported transfer coding", 200)},
        // Refused: chunked bodies
        {"chunk_size_not_hex", ok200 + "Transfer-Encoding: chunked\r\n\r\nG\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_empty", ok200 + "Transfer-Encoding: chunked\r\n\r\n\r\nok\r\n0\r\n\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_negative", ok200 + "Transfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_prefixed", ok200 + "Transfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_size_blank_first", ok200 + "Transfer-Encoding: chunked\r\n\r\n 2\r\nok\r\n0\r\n\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_junk", ok200 + "Transfer-Encoding: chunked\r\n\r\n2 junk\r\nok\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_size_overflow", ok200 + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nok\r\n0\r\n\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_17_digits", ok200 + "Transfer-Encoding: chunked\r\n\r\n00000000000000002\r\nok\r\n0\r\n\r\n",
         bad("the chunk size is malformed", 200)},
        {"chunk_size_bare_cr", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\rX\r\nok\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_extension_control", ok200 + "Transfer-Encoding: chunked\r\n\r\n2;a=\x01\r\nok\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_data_too_long", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_data_cr_cr", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\r\n0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"chunk_data_cr_only", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r0\r\n\r\n",
         bad("the chunked body is malformed", 200)},
        {"trailer_folded", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-A: 1\r\n 2\r\n\r\n",
         bad("a folded header line (obs-fold)", 200)},
        {"trailer_no_colon", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\ngarbage\r\n\r\n",
         bad("a header line without a colon", 200)},
        {"trailer_bare_cr", ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-A: 1\r2\r\n\r\n",
         bad("a bare CR in the head", 200)},
        // Refused: the retry_after read before the failure stays
        {"retry_after_then_failure", "HTTP/1.1 429 Slow\r\nRetry-After: 3\r\nContent-Length: x\r\n\r\n",
         bad("the Content-Length is malformed", 429, false, "3")},
    };

    // Caps: exactly at the limit and one over.
    const std::string head = head_of_size(100);
    t.push_back({"head_at_cap", head + "ok", ok(200, "ok", true), 100});
    t.push_back({"head_over_cap", head + "ok", too_large("the head is larger than the buffer", 200), 99});
    t.push_back({"head_over_cap_in_a_partial_line", head.substr(0, 98) + "X-More",
                 too_large("the head is larger than the buffer", 200), 99});
    t.push_back(
        {"head_over_cap_no_newline", std::string(200, 'H'), too_large("the head is larger than the buffer", 0), 100});
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";  // 25 bytes
    t.push_back({"interim_counts_at_cap", interim + head_of_size(75) + "ok", ok(200, "ok", true), 100});
    t.push_back({"interim_counts_over_cap", interim + head_of_size(76) + "ok",
                 too_large("the head is larger than the buffer", 200), 100});
    const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";  // 47 bytes
    t.push_back({"trailers_count_at_cap", chunked_head + "2\r\nok\r\n0\r\nX-T: " + std::string(44, 't') + "\r\n\r\n",
                 ok(200, "ok", true), 100});
    t.push_back({"trailers_count_over_cap", chunked_head + "2\r\nok\r\n0\r\nX-T: " + std::string(45, 't') + "\r\n\r\n",
                 too_large("the head is larger than the buffer", 200), 100});
    const std::string b64(64, 'b');
    t.push_back({"length_body_at_cap", ok200 + "Content-Length: 64\r\n\r\n" + b64, ok(200, b64, true), 64});
    t.push_back({"length_body_over_cap", ok200 + "Content-Length: 65\r\n\r\n" + b64 + "b",
                 too_large("the body is larger than the buffer", 200), 64});
    t.push_back({"length_over_cap_before_the_body", ok200 + "Content-Length: 65\r\n\r\n",
                 too_large("the body is larger than the buffer", 200), 64});
    t.push_back({"chunked_body_at_cap",
                 chunked_head + "20\r\n" + b64.substr(0, 32) + "\r\n20\r\n" + b64.substr(0, 32) + "\r\n0\r\n\r\n",
                 ok(200, b64, true), 64});
    t.push_back({"chunked_body_over_cap",
                 chunked_head + "20\r\n" + b64.substr(0, 32) + "\r\n21\r\n" + b64.substr(0, 33) + "\r\n0\r\n\r\n",
                 too_large("the body is larger than the buffer", 200), 64});
    t.push_back({"chunk_size_huge", chunked_head + "FFFFFFFFFFFFFFFF\r\n",
                 too_large("the body is larger than the buffer", 200), 64});
    t.push_back({"no_framing_over_cap_refused_for_framing", ok200 + "\r\n" + b64 + "b", bad(kNoFraming, 200), 64});
    t.push_back({"chunk_line_at_cap", chunked_head + "2;" + std::string(60, 'e') + "\r\nok\r\n0\r\n\r\n",
                 ok(200, "ok", true), 64});
    t.push_back({"chunk_line_over_cap", chunked_head + "2;" + std::string(61, 'e') + "\r\nok\r\n0\r\n\r\n",
                 too_large("a chunk size line is larger than the buffer", 200), 64});
    return t;
}

}  // namespace wa_pair::http1_rows
