// libcurl's multi-socket interface driven by nginx events (DESIGN.md section 7).
// One multi handle per worker; curl's sockets become nginx connections with level-triggered
// events, curl's timer an nginx timer. A finished transfer calls its done callback from an
// nginx event handler, never from inside libcurl. libcurl connects; what is said on the
// connection is src/ngx_wa_pair_link.cpp's.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ngx_wa_pair_nginx.hpp"

namespace wa_pair {

struct Transfer;
using TransferDone = void (*)(Transfer *t, CURLcode result);

// One easy handle in the worker's multi handle. Every transfer is CONNECT_ONLY: libcurl
// connects (a Unix socket or TCP, with its connect timeout) and reports it done; the
// connection then stays with the handle (its fd read and written by
// src/ngx_wa_pair_link.cpp) until transfer_stop() removes the handle and libcurl closes it.
struct Transfer {
    CURL *easy = nullptr;
    // The easy handle keeps its options from call to call (see transfer_set_target): this is
    // the parsed URL it was last given, 0 when it was given a string.
    uint64_t easy_target = 0;
    bool connecting = false;  // added, and not yet reported done
    char error[CURL_ERROR_SIZE] = {};
    TransferDone done = nullptr;
    void *data = nullptr;  // the owner
    Transfer *prev = nullptr;
    Transfer *next = nullptr;

    Transfer() = default;
    Transfer(const Transfer &) = delete;
    Transfer &operator=(const Transfer &) = delete;
    ~Transfer();  // detaches from the multi handle if still attached
};

// nginx's view of a libcurl socket. Events are level-triggered (flags 0): the reader and the
// writer stop at EAGAIN only when they want to.
void want_event(ngx_event_t *ev, ngx_int_t event, bool want) noexcept;

// Gives back the nginx connection of a libcurl socket (its events, posted events and read
// timer gone) without closing the fd: libcurl owns it, and closes it itself.
void release_connection(ngx_connection_t *c) noexcept;

// Per-worker lifetime: init_process / exit_process.
ngx_int_t curl_worker_init(ngx_cycle_t *cycle) noexcept;
void curl_worker_exit() noexcept;

// A backend URL parsed by libcurl once, at nginx -t, for every call to it: libcurl then
// neither parses the URL nor rebuilds it from its parts per call. `id` is never reused in a
// process (a CURLU's address may be, after a reload), so that a reused handle can tell whether
// it already holds this URL. Plain: it lives in a location's conf, zeroed by ngx_pcalloc.
struct ParsedUrl {
    CURLU *url;
    uint64_t id;  // 0: none
};

// Parses `url` (NUL-terminated) as libcurl does for CURLOPT_URL; false when libcurl refuses it.
// The CURLU is freed with the pool.
bool parsed_url_create(ngx_pool_t *pool, const char *url, ParsedUrl &out) noexcept;

// Gives the transfer an easy handle (a finished transfer's, with its options, or a new one)
// and the options that point at this transfer.
// Returns false (and logs) when libcurl cannot give one.
bool transfer_prepare(Transfer *t, ngx_log_t *log) noexcept;

// Where the call goes: `parsed` when the URL is a location's fixed one, else `url`;
// `unix_socket` NULL for TCP. All NUL-terminated; libcurl copies `url` and `unix_socket`,
// and reads `parsed` only during the transfer (a location's conf outlives it).
void transfer_set_target(Transfer *t, const ParsedUrl *parsed, const char *url,
                         const char *unix_socket) noexcept;

// Hands a prepared transfer to the worker's multi handle.
bool transfer_start(Transfer *t, ngx_log_t *log) noexcept;

// Removes a transfer from the multi handle, which closes its connection, and keeps its easy
// handle for the next (idempotent). Whoever watched the connection's fd must have let go of
// it first: libcurl closes it here.
void transfer_stop(Transfer *t) noexcept;

}  // namespace wa_pair
