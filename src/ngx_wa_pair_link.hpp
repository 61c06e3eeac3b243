// One backend call: an HTTP/1.1 exchange (src/http1.hpp) on a connection libcurl made and
// owns (CONNECT_ONLY, src/ngx_wa_pair_curl.hpp), sent with send() and read with recv() on its
// socket as nginx events say it is ready. Connections are kept alive per
// worker and reused for the same backend, as proxy_pass's keepalive does: a call on a
// reused connection costs two system calls and no work in libcurl's HTTP layer.
#pragma once

#include <optional>
#include <string>

#include "ngx_wa_pair_curl.hpp"
#include "http1.hpp"

namespace wa_pair {

struct Link;  // a kept-alive connection (ngx_wa_pair_link.cpp)
struct Call;
using CallDone = void (*)(Call *call);

struct Call {
    // Set before call_start:
    std::string request;           // the whole request (write_http_request)
    size_t max_response = 16384;  // wa_pair_backend_buffer_size
    ngx_msec_t connect_timeout = 60000;
    ngx_msec_t timeout = 60000;    // from call_start to the answer's last byte
    CallDone done = nullptr;       // called once, from an nginx event handler
    void *data = nullptr;

    // The outcome, for `done`:
    ResponseReader answer;
    // None on an answer; else unreachable (refused, no socket, permission denied, queue
    // full), timeout (no connection or no whole answer in time), too_large (over the cap) or
    // bad_answer (not HTTP, cut short, reset, a bad chunked body ...).
    std::optional<TransportFailure> failure;
    long os_errno = 0;             // of a failed connect, when the system gave one
    std::string error;             // why, for the error log: libcurl's text or ours

    // The call's own state (ngx_wa_pair_link.cpp):
    // Where it goes, NUL-terminated: a location's fixed URL and socket (its conf outlives
    // the call) or copies of evaluated ones in url_buf and socket_buf. The pool's key is the
    // socket path, or the URL's authority.
    const char *url = nullptr;
    const char *unix_socket = nullptr;  // NULL for TCP
    std::string_view key;
    std::string url_buf;
    std::string socket_buf;
    Link *link = nullptr;
    size_t sent = 0;
    bool retried = false;
    bool starting = false;         // in call_start: an end then is posted, not called back
    ngx_msec_t deadline = 0;       // ngx_current_msec at which the call times out
    ngx_event_t end;               // posts an end that happens in call_start
    const ParsedUrl *parsed = nullptr;

    Call() noexcept;
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;
    ~Call();  // stops the call if it is in flight
};

// Starts the call: on a kept-alive connection to the same socket or host when one is idle,
// else on a new one that libcurl makes. `parsed` is a location's fixed URL, parsed at nginx -t,
// and then `url` and `unix_socket` are that location's too, kept as they are; else they are
// copied. `unix_socket` is NULL for TCP; all NUL-terminated. False when it cannot start.
bool call_start(Call *call, const ParsedUrl *parsed, const char *url, const char *unix_socket,
                ngx_log_t *log) noexcept;

// Ends a call in flight without calling `done`; its connection is closed (a request was
// half-way on it). Idempotent.
void call_stop(Call *call) noexcept;

// exit_process: closes every connection, before curl_worker_exit().
void link_worker_exit() noexcept;

}  // namespace wa_pair
