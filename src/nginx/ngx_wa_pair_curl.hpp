// libcurl's multi-socket interface driven by nginx's events and timers: the module's HTTPS
// client for keys from identity providers (docs/architecture.md, "Keys from identity
// providers"). One multi handle per worker, made by its first fetch; curl's sockets become
// nginx connections, its timer an nginx timer. A finished fetch calls its `done` from an nginx
// event handler, never from inside libcurl, with its easy handle already gone: the owner may
// start the next fetch at once. Nothing here runs on a request's path.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <string>

#include "nginx/ngx_wa_pair_nginx.hpp"

namespace ngx_wa_pair {

// One GET. The owner fills the request part, calls fetch_start(), and reads the answer in
// `done`. A fetch never follows a redirect itself: a 3xx answer is done with `location` set,
// and the owner decides whether to go there.
struct Fetch {
    // The request
    std::string url;
    std::string ca_file;       // a PEM bundle; "" for the system's CAs
    long timeout_ms = 10000;   // the whole fetch, connect and TLS included
    std::size_t max_body = 0;  // a longer answer fails the fetch (too_large)
    void (*done)(Fetch *f) = nullptr;
    void *data = nullptr;  // the owner's

    // The answer
    CURLcode result = CURLE_OK;
    long status = 0;
    bool too_large = false;
    std::string body;
    std::string cache_control;  // the answer's Cache-Control, "" when none
    std::string location;       // a 3xx's target, resolved against the URL
    char error[CURL_ERROR_SIZE] = {};

    // The worker's
    CURL *easy = nullptr;
    Fetch *prev = nullptr;
    Fetch *next = nullptr;

    Fetch() = default;
    Fetch(const Fetch &) = delete;
    Fetch &operator=(const Fetch &) = delete;
    ~Fetch();  // stops it if it is running
};

// Starts `f` (its answer part cleared). False when libcurl cannot (logged); `done` is then
// never called.
bool fetch_start(Fetch *f, ngx_log_t *log) noexcept;

// Stops a running fetch without calling `done`; nothing when it is not running.
void fetch_stop(Fetch *f) noexcept;

// Why a finished fetch failed, in words for the error log ("" when it got an answer, whatever
// its status): libcurl's error text, or "answer larger than N bytes".
std::string fetch_failure(const Fetch &f);

// exit_process: stops every fetch and frees libcurl's state.
void curl_worker_exit() noexcept;

}  // namespace ngx_wa_pair
