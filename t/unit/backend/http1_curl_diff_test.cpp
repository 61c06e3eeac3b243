// ResponseReader against an independent HTTP/1.1 client: libcurl, here only as a reference
// implementation (the module's transport is nginx's upstream). Each answer (the table of
// http1_rows.hpp, and a few thousand deterministic mutations of it) is served from a thread on a
// real Unix socket, then closed, and fetched with a blocking easy handle. Whenever one side reads
// a whole answer, the other must read the same status and body, unless our reader refused it for
// one of the reasons listed in kStricter below, where we are deliberately stricter than libcurl,
// or still waited for the rest of it where libcurl took the close as its end (see below).
#include <gtest/gtest.h>

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "http1_rows.hpp"

namespace wa_pair {
namespace {

using namespace http1_rows;

// Where our reader refuses what libcurl reads, on purpose (error() text -> why):
const std::map<std::string, const char *> kStricter = {
    {"Content-Length values differ", "two lengths mean two framings (request smuggling); libcurl takes the last one"},
    {"the Content-Length is malformed",
     "libcurl reads a number prefix (\"2;\", \"+2\", \"2 2\") or ignores a bad value and reads until close"},
    {"a folded header line (obs-fold)", "RFC 9112 5.2: obsolete; libcurl unfolds or keeps it"},
    {"whitespace before a header colon", "RFC 9112 5.1: MUST be rejected; libcurl trims the name"},
    {"a header line without a colon", "libcurl skips such a line; a garbled head is no answer to trust"},
    {"a header name is malformed", "libcurl takes any bytes before the colon as the name"},
    {"a control character in a header value", "libcurl passes NUL/ESC/DEL through; we never forward them"},
    {"a bare CR in the head", "RFC 9112 2.2: a bare CR is either an error or a SP; libcurl keeps it"},
    {"the status line is malformed",
     "libcurl accepts a status line of HTTP/1.x + 3 digits followed by anything (\"200OK\", \"2000\", 0xx)"},
    {"not an HTTP/1.x answer", "libcurl reads HTTP/1.2 as 1.1 and some lines as HTTP/0.9"},
    {"unsupported transfer coding",
     "libcurl leaves codings other than chunked undecoded in the body; we never read such a body"},
    {"the chunked body is malformed", "libcurl ignores any text after the chunk size"},
    {"the backend switched protocols", "we never ask to upgrade"},
    {"the answer has neither Content-Length nor chunked framing",
     "libcurl reads such a body until the close; nginx's upstream reports a close as an error, "
     "so an answer must say where it ends"},
    // The caps: the same numbers, counted a little differently
    {"the head is larger than the buffer",
     "trailer fields count toward our head cap; libcurl does not pass them to the header callback"},
    {"a chunk size line is larger than the buffer", "libcurl skips chunk extensions of any length"},
};

// And where the bytes end before our reader saw the end of the answer (it waits for more; nginx
// would report the close as an error), checked on its own: libcurl takes a close in the middle
// of the head as its end (CURLE_OK with no body). True when `t` holds the empty line ending the
// final (non-1xx) head.
bool final_head_ends(std::string_view t) {
    for (size_t pos = 0;;) {
        const size_t crlf = t.find("\n\r\n", pos);
        const size_t lf = t.find("\n\n", pos);
        const size_t end =
            std::min(crlf == std::string_view::npos ? crlf : crlf + 3, lf == std::string_view::npos ? lf : lf + 2);
        if (end == std::string_view::npos) return false;
        if (!(t.size() > pos + 9 && t[pos + 9] == '1')) return true;
        pos = end;
    }
}

// The same for a close in the trailer section: libcurl ends a chunked answer at its last chunk
// (a size of 0). True when `t` holds such a line after its final head.
bool last_chunk_seen(std::string_view t) {
    for (size_t at = t.find('\n'); at != std::string_view::npos; at = t.find('\n', at + 1)) {
        size_t end = at + 1;
        while (end < t.size() && t[end] == '0') ++end;
        if (end > at + 1 && end < t.size() && std::string_view("\r\n; \t").find(t[end]) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

constexpr long kTimeoutMs = 3000;

// One Unix socket; each connection gets the current answer's bytes after the request head,
// then a close.
class Server {
public:
    Server() {
        char dir[] = "/tmp/wa_pair_http1_XXXXXX";
        if (mkdtemp(dir) == nullptr) std::abort();
        dir_ = dir;
        path_ = dir_ + "/backend.sock";
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) {
            std::abort();
        }
        thread_ = std::thread([this] { run(); });
    }

    ~Server() {
        stop_ = true;
        thread_.join();
        close(fd_);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    void set_answer(const std::string &answer) {
        std::lock_guard<std::mutex> lock(mu_);
        answer_ = answer;
    }

    const std::string &path() const { return path_; }

private:
    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            serve(c);
            close(c);
        }
    }

    static void serve(int c, const std::string &answer) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            pollfd p{c, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(kTimeoutMs)) <= 0) return;
            const ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            request.append(buf, static_cast<size_t>(n));
        }
        for (size_t at = 0; at < answer.size();) {
            const ssize_t n = send(c, answer.data() + at, answer.size() - at, MSG_NOSIGNAL);
            if (n <= 0) return;
            at += static_cast<size_t>(n);
        }
    }

    void serve(int c) {
        std::string answer;
        {
            std::lock_guard<std::mutex> lock(mu_);
            answer = answer_;
        }
        serve(c, answer);
    }

    std::string dir_;
    std::string path_;
    int fd_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::string answer_;
};

struct CurlResult {
    CURLcode code = CURLE_OK;
    long status = 0;
    std::string body;
};

struct Caps {
    std::string *body;
    size_t max;
    size_t head = 0;
};

size_t on_body(char *data, size_t, size_t n, void *user) {
    Caps &caps = *static_cast<Caps *>(user);
    if (caps.body->size() + n > caps.max) return 0;  // the same body cap as ours
    caps.body->append(data, n);
    return n;
}

size_t on_header(char *, size_t, size_t n, void *user) {
    Caps &caps = *static_cast<Caps *>(user);
    caps.head += n;
    return caps.head > caps.max ? 0 : n;  // the same head cap as ours (1xx heads included)
}

CurlResult fetch(const Server &server, size_t max) {
    CurlResult r;
    Caps caps{&r.body, max};
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, "http://localhost/");
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, server.path().c_str());
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, kTimeoutMs);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &caps);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &caps);
    r.code = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_cleanup(e);
    return r;
}

// The table's answers, and mutations of them: truncations, byte changes (case, CR, LF, SP,
// HTAB, digits, separators, NUL), inserted and deleted bytes. Deterministic (fixed seed).
std::vector<std::pair<std::string, size_t>> answers() {
    std::vector<std::pair<std::string, size_t>> out;
    const std::vector<Row> table = rows();
    for (const Row &row : table) out.emplace_back(row.text, row.max);

    std::mt19937 rng(20240611);
    const std::string interesting = "\r\n \t:;,0159aAfF\x7f\x01";
    std::vector<const Row *> accepted;
    for (const Row &row : table) {
        if (row.expected.state == State::done && !row.text.empty()) accepted.push_back(&row);
    }
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    for (const Row *row : accepted) {  // truncations
        const std::string &t = row->text;
        for (const size_t at : {t.size() / 3, t.size() / 2, t.size() - 1}) out.emplace_back(t.substr(0, at), row->max);
    }
    for (int i = 0; i < 2000; ++i) {
        const Row &row = *accepted[pick(accepted.size())];
        std::string t = row.text;
        const size_t at = pick(t.size());
        switch (pick(5)) {
        case 0:  // case change
            t[at] = static_cast<char>(t[at] ^ 0x20);
            break;
        case 1:
            t[at] = interesting[pick(interesting.size())];
            break;
        case 2:
            t.insert(at, 1, interesting[pick(4)]);  // CR, LF, SP or HTAB
            break;
        case 3:
            t.erase(at, 1);
            break;
        default:
            t[at] = static_cast<char>(pick(256));
            break;
        }
        out.emplace_back(t, row.max);
    }
    return out;
}

TEST(Http1CurlDiff, SameAnswersAsLibcurl) {
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    Server server;
    const auto started = std::chrono::steady_clock::now();
    size_t compared = 0;
    size_t both_read = 0;
    std::map<std::string, size_t> stricter;  // our error -> count, where libcurl read the answer
    size_t failures = 0;

    for (const auto &[text, max] : answers()) {
        server.set_answer(text);
        const CurlResult c = fetch(server, max);
        const Result ours = read_whole(text, max);
        ++compared;
        const bool curl_read = c.code == CURLE_OK;
        const bool we_read = ours.state == State::done;
        std::string problem;
        if (we_read && !curl_read) {
            problem = std::string("libcurl failed: ") + curl_easy_strerror(c.code);
        } else if (we_read && curl_read) {
            ++both_read;
            if (c.status != ours.status || c.body != ours.body) problem = "different status or body";
        } else if (curl_read && ours.state == State::more) {
            if (!final_head_ends(text) && c.body.empty()) {
                ++stricter["unfinished at the close (in the head)"];
            } else if (last_chunk_seen(text) && c.body == ours.body) {
                ++stricter["unfinished at the close (in the trailers)"];
            } else {
                problem = "libcurl read it, we still wait for the rest";
            }
        } else if (curl_read) {
            const auto why = kStricter.find(ours.error);
            if (why == kStricter.end()) {
                problem = "libcurl read it, we did not: " + ours.error;
            } else {
                ++stricter[ours.error];
            }
        }
        if (!problem.empty() && ++failures <= 15) {
            ADD_FAILURE() << problem << "\n  answer: " << testing::PrintToString(text) << " (cap " << max
                          << ")\n  ours:   " << ours << "\n  curl:   " << curl_easy_strerror(c.code)
                          << " status=" << c.status << " body=" << testing::PrintToString(c.body);
        }
    }
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string summary;
    for (const auto &[error, n] : stricter) summary += "\n  " + std::to_string(n) + " x " + error;
    std::printf("[ diff     ] %zu answers in %.1f s, %zu read by both; stricter than libcurl on purpose:%s\n", compared,
                seconds, both_read, summary.c_str());
    EXPECT_GT(both_read, 100u);  // the comparison compared something
    EXPECT_LT(seconds, 10.0);
    curl_global_cleanup();
}

}  // namespace
}  // namespace wa_pair
