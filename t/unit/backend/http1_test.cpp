// The backend's HTTP/1.1 framing (src/backend/http1.hpp): the request's exact bytes, and the answer
// reader over a table of accepted and refused answers (t/unit/http1_rows.hpp), each fed whole,
// in two pieces at every split point, and byte by byte, which must all read alike.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http1_rows.hpp"
#include "row_name.hpp"

namespace wa_pair {
namespace {

using namespace std::string_literals;
using namespace http1_rows;

// ---------------------------------------------------------------------------------------------
// The request

std::string request(bool post, std::string_view target, std::string_view host, const std::vector<Header> &headers,
                    std::string_view body) {
    std::string out = "kept|";  // appends, never overwrites
    write_http_request(out, post, target, host, headers, body);
    return out;
}

TEST(Http1Request, Post) {
    EXPECT_EQ(request(true, "/v1/pair-code", "localhost",
                      {{"Content-Type", "application/json"}, {"X-Request-ID", "abc"}}, "{\"a\":1}"),
              "kept|POST /v1/pair-code HTTP/1.1\r\n"
              "Host: localhost\r\n"
              "Accept: */*\r\n"
              "Content-Type: application/json\r\n"
              "X-Request-ID: abc\r\n"
              "Content-Length: 7\r\n"
              "\r\n"
              "{\"a\":1}");
}

TEST(Http1Request, PostEmptyBody) {
    EXPECT_EQ(request(true, "/p", "h", {}, ""),
              "kept|POST /p HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n");
}

TEST(Http1Request, GetSendsNeitherLengthNorBody) {
    EXPECT_EQ(request(false, "/v1/status?device=dev-42&x=1", "backend:8080", {{"X-Device-Id", "dev-42"}}, "ignored"),
              "kept|GET /v1/status?device=dev-42&x=1 HTTP/1.1\r\n"
              "Host: backend:8080\r\n"
              "Accept: */*\r\n"
              "X-Device-Id: dev-42\r\n"
              "\r\n");
}

TEST(Http1Request, HostOverrideAnyCase) {
    EXPECT_EQ(request(false, "/", "localhost", {{"X-A", "1"}, {"hOST", "wa.example"}}, ""),
              "kept|GET / HTTP/1.1\r\nAccept: */*\r\nX-A: 1\r\nhOST: wa.example\r\n\r\n");
}

TEST(Http1Request, AcceptOverrideAnyCase) {
    EXPECT_EQ(request(true, "/", "localhost", {{"ACCEPT", "application/json"}}, "x"),
              "kept|POST / HTTP/1.1\r\nHost: localhost\r\nACCEPT: application/json\r\n"
              "Content-Length: 1\r\n\r\nx");
}

TEST(Http1Request, EmptyValueIsNotSent) {
    EXPECT_EQ(request(false, "/", "localhost", {{"X-Empty", ""}, {"X-B", "b"}}, ""),
              "kept|GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\nX-B: b\r\n\r\n");
    // An empty Host or Accept still replaces ours: the way to send none (as with libcurl's "Host:").
    EXPECT_EQ(request(false, "/", "localhost", {{"Host", ""}, {"Accept", ""}}, ""), "kept|GET / HTTP/1.1\r\n\r\n");
}

TEST(Http1Request, LongBodyLength) {
    const std::string body(123456, 'x');
    const std::string out = request(true, "/", "h", {}, body);
    EXPECT_NE(out.find("\r\nContent-Length: 123456\r\n\r\nxxx"), std::string::npos);
    EXPECT_EQ(out.size(),
              "kept|POST / HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nContent-Length: 123456\r\n\r\n"s.size() + body.size());
}

// ---------------------------------------------------------------------------------------------
// The answer

class Http1Answer : public testing::TestWithParam<Row> {};

TEST_P(Http1Answer, Whole) {
    const Row &row = GetParam();
    EXPECT_EQ(read_whole(row.text, row.max), row.expected) << testing::PrintToString(row.text);
}

TEST_P(Http1Answer, EverySplitInTwo) {
    const Row &row = GetParam();
    for (size_t cut = 0; cut <= row.text.size(); ++cut) {
        ASSERT_EQ(read_cut(row.text, {cut}, row.max), row.expected) << "cut at " << cut;
    }
}

TEST_P(Http1Answer, ByteByByte) {
    const Row &row = GetParam();
    EXPECT_EQ(read_bytewise(row.text, row.max), row.expected);
}

TEST_P(Http1Answer, ReusedAfterReset) {
    const Row &row = GetParam();
    ResponseReader reader(7);
    read_cut("HTTP/1.1 429 X\r\nRetry-After: 1\r\nContent-Length: 3\r\n\r\nabc", {9, 40}, 7, &reader);
    reader.reset(row.max);
    EXPECT_EQ(read_cut(row.text, {row.text.size() / 2}, row.max, &reader), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Table, Http1Answer, testing::ValuesIn(rows()), RowName());

TEST(Http1Reader, WaitsForMore) {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    ResponseReader reader;
    for (size_t i = 0; i + 1 < text.size(); ++i) {
        ASSERT_EQ(reader.feed(text.data() + i, 1), ResponseReader::State::more) << i;
        ASSERT_FALSE(reader.keep_alive());
    }
    EXPECT_EQ(reader.feed(text.data() + text.size() - 1, 1), ResponseReader::State::done);
    EXPECT_TRUE(reader.keep_alive());
}

TEST(Http1Reader, EmptyPiecesChangeNothing) {
    ResponseReader reader;
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    EXPECT_EQ(reader.feed("", 0), ResponseReader::State::more);
    EXPECT_EQ(reader.feed(text.data(), 20), ResponseReader::State::more);
    EXPECT_EQ(reader.feed("", 0), ResponseReader::State::more);
    EXPECT_EQ(reader.feed(text.data() + 20, text.size() - 20), ResponseReader::State::done);
    EXPECT_EQ(reader.feed("", 0), ResponseReader::State::done);
    EXPECT_EQ(reader.body(), "ok");
    EXPECT_TRUE(reader.keep_alive());  // an empty piece is no byte after the answer
    EXPECT_STREQ(reader.error(), "");
}

TEST(Http1Reader, FinalStateSticks) {
    ResponseReader reader;
    const std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
    EXPECT_EQ(reader.feed(bad.data(), bad.size()), ResponseReader::State::failed);
    EXPECT_EQ(reader.feed("HTTP/1.1 200 OK\r\n\r\n", 19), ResponseReader::State::failed);
    EXPECT_STREQ(reader.error(), "the Content-Length is malformed");

    ResponseReader done;
    const std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    EXPECT_EQ(done.feed(good.data(), good.size()), ResponseReader::State::done);
    EXPECT_TRUE(done.keep_alive());
    EXPECT_EQ(done.feed("x", 1), ResponseReader::State::done);
    EXPECT_EQ(done.body(), "ok");
    EXPECT_FALSE(done.keep_alive());  // a byte after the answer forbids reuse
}

TEST(Http1Reader, LengthOverCapFailsBeforeTheBody) {
    ResponseReader reader(1000);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n";
    EXPECT_EQ(reader.feed(head.data(), head.size()), ResponseReader::State::failed);
    EXPECT_TRUE(reader.too_large());
}

// nginx's process_header must not wait for a close it will only report as an error: an answer
// without framing fails at the last byte of its head, before any of its body comes.
TEST(Http1Reader, NoFramingFailsAtTheEndOfTheHead) {
    ResponseReader reader;
    const std::string head = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n";
    EXPECT_EQ(reader.feed(head.data(), head.size() - 1), ResponseReader::State::more);
    EXPECT_EQ(reader.feed("\n", 1), ResponseReader::State::failed);
    EXPECT_STREQ(reader.error(), "the answer has neither Content-Length nor chunked framing");
    EXPECT_EQ(reader.status(), 200);
    EXPECT_FALSE(reader.too_large());
    EXPECT_EQ(reader.feed("{}", 2), ResponseReader::State::failed);
    EXPECT_EQ(reader.body(), "");
    EXPECT_FALSE(reader.keep_alive());

    // A 204 or 304 has no body by definition: done at the same byte.
    for (const std::string status : {"204 No Content", "304 Not Modified"}) {
        ResponseReader bodiless;
        const std::string text = "HTTP/1.1 " + status + "\r\nETag: \"x\"\r\n\r\n";
        EXPECT_EQ(bodiless.feed(text.data(), text.size() - 1), ResponseReader::State::more);
        EXPECT_EQ(bodiless.feed("\n", 1), ResponseReader::State::done) << status;
        EXPECT_TRUE(bodiless.keep_alive()) << status;
    }
}

// A long answer in pieces of every size up to 40: lines and chunks cut everywhere.
TEST(Http1Reader, ChunkedInPiecesOfEverySize) {
    std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Long: " + std::string(300, 'v') + "\r\n\r\n";
    std::string expected;
    for (int i = 1; i <= 40; ++i) {
        const std::string data(static_cast<size_t>(i), static_cast<char>('a' + i % 26));
        char size[8];
        std::snprintf(size, sizeof size, "%x", i);
        text += std::string(size) + (i % 3 ? ";ext=1" : "") + (i % 2 ? "\r\n" : "\n") + data + "\r\n";
        expected += data;
    }
    text += "0\r\nX-Trailer: t\r\n\r\n";
    for (size_t piece = 1; piece <= 40; ++piece) {
        std::vector<size_t> cuts;
        for (size_t at = piece; at < text.size(); at += piece) cuts.push_back(at);
        const Result r = read_cut(text, cuts, 16384);
        ASSERT_EQ(r.state, ResponseReader::State::done) << piece << " " << r.error;
        ASSERT_EQ(r.body, expected) << piece;
        ASSERT_TRUE(r.keep_alive);
    }
}

// Every byte at every position of a header value and of a reason phrase (values are checked
// eight bytes at a time, then byte by byte): refused exactly when it is a control character
// other than HTAB, or DEL.
TEST(Http1Reader, EveryByteEverywhereInAValue) {
    for (int byte = 0; byte < 256; ++byte) {
        const char c = static_cast<char>(byte);
        const bool allowed = byte == '\t' || (byte >= 0x20 && byte != 0x7f);
        if (c == '\r' || c == '\n') continue;  // they end the line: other rows cover them
        for (size_t at = 0; at < 19; ++at) {
            std::string value(19, 'v');
            value[at] = c;
            for (const std::string &text : {"HTTP/1.1 200 OK\r\nX-Value: " + value + "\r\nContent-Length: 0\r\n\r\n",
                                            "HTTP/1.1 200 " + value + "\r\nContent-Length: 0\r\n\r\n"}) {
                ResponseReader reader;
                const ResponseReader::State state = reader.feed(text.data(), text.size());
                ASSERT_EQ(state, allowed ? ResponseReader::State::done : ResponseReader::State::failed)
                    << "byte " << byte << " at " << at << ": " << reader.error();
            }
        }
    }
}

struct RequestIdRow {
    const char *name;
    std::string text;
    bool has;
    std::string id;
};

TEST(Http1Answer, KeepsTheFirstRequestIdOfTheFinalHead) {
    const std::vector<RequestIdRow> rows = {
        {"none", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, ""},
        {"trimmed", "HTTP/1.1 200 OK\r\nX-Request-ID: \t abc-1 \r\nContent-Length: 0\r\n\r\n", true, "abc-1"},
        {"any_case_first_one", "HTTP/1.1 200 OK\r\nx-request-id: a\r\nX-Request-Id: b\r\nContent-Length: 0\r\n\r\n",
         true, "a"},
        {"empty_value", "HTTP/1.1 200 OK\r\nX-Request-ID:\r\nContent-Length: 0\r\n\r\n", true, ""},
        {"interim_head_ignored",
         "HTTP/1.1 100 Continue\r\nX-Request-ID: early\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, ""},
        {"trailer_ignored", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Request-ID: late\r\n\r\n",
         false, ""},
    };
    for (const RequestIdRow &row : rows) {
        ResponseReader reader;
        ASSERT_EQ(reader.feed(row.text.data(), row.text.size()), ResponseReader::State::done) << row.name;
        EXPECT_EQ(reader.has_request_id(), row.has) << row.name;
        EXPECT_EQ(reader.request_id(), row.id) << row.name;
        reader.reset(16384);
        EXPECT_FALSE(reader.has_request_id()) << row.name;
        EXPECT_EQ(reader.request_id(), "") << row.name;
    }
}

}  // namespace
}  // namespace wa_pair
