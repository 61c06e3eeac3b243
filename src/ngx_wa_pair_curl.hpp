// libcurl's multi-socket interface driven by nginx events (DESIGN.md section 7).
// One multi handle per worker; curl's sockets become nginx connections with level-triggered
// events, curl's timer an nginx timer. A finished transfer calls its done callback from an
// nginx event handler, never from inside libcurl.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

#include "ngx_wa_pair_nginx.hpp"

namespace wa_pair {

struct Transfer;
using TransferDone = void (*)(Transfer *t, CURLcode result);

struct Transfer {
    CURL *easy = nullptr;
    // CURLOPT_HTTPHEADER, read in place by libcurl: "Name: value" lines, NUL-terminated, in
    // one buffer, and the list's nodes pointing into it.
    std::string header_lines;
    std::vector<curl_slist> header_list;
    std::string url;          // what this transfer calls (libcurl copies these two)
    std::string unix_socket;
    std::string request_body; // CURLOPT_POSTFIELDS: libcurl reads it in place
    std::string response_body;
    size_t max_response = 16384;  // the cap on the answer's body, and on its head
    size_t head_bytes = 0;
    bool too_large = false;
    char error[CURL_ERROR_SIZE] = {};
    TransferDone done = nullptr;
    void *data = nullptr;  // the owner (request context)
    Transfer *prev = nullptr;
    Transfer *next = nullptr;

    Transfer() = default;
    Transfer(const Transfer &) = delete;
    Transfer &operator=(const Transfer &) = delete;
    ~Transfer();  // detaches from the multi handle if still attached
};

// Per-worker lifetime: init_process / exit_process.
ngx_int_t curl_worker_init(ngx_cycle_t *cycle) noexcept;
void curl_worker_exit() noexcept;

// Creates the easy handle with the options common to every backend call; set max_response
// first.
// Returns false (and logs) when libcurl cannot give one.
bool transfer_prepare(Transfer *t, ngx_log_t *log) noexcept;

// Hands a prepared transfer to the worker's multi handle.
bool transfer_start(Transfer *t, ngx_log_t *log) noexcept;

// Removes a transfer from the multi handle and frees its easy handle (idempotent).
void transfer_stop(Transfer *t) noexcept;

}  // namespace wa_pair
