// libcurl multi <-> nginx event loop. See ngx_wa_pair_curl.hpp and DESIGN.md section 7.

#include "ngx_wa_pair_curl.hpp"

#include <fcntl.h>

namespace wa_pair {
namespace {

struct Worker {
    CURLM *multi = nullptr;
    ngx_event_t timer;
    ngx_log_t *log = nullptr;
    Transfer *transfers = nullptr;  // attached to the multi handle
    ngx_uint_t connecting = 0;      // of those, not yet done
    // Easy handles of finished transfers, kept with their options: curl_easy_init() per call
    // costs more than the rest of the transfer's setup (issue 6's profile), and so do
    // curl_easy_reset() and setting every option again.
    struct Spare {
        CURL *easy;
        uint64_t target;  // Transfer::easy_target
    };
    Spare spare[64] = {};
    ngx_uint_t nspare = 0;
};

// One per worker process, from init_process to exit_process.
Worker *worker;

void set_timer_cancelable() {
    // A worker that is shutting down gracefully waits for non-cancelable timers: keep curl's
    // timer non-cancelable while a transfer connects so that calls in flight are answered.
    worker->timer.cancelable = worker->connecting == 0;
}

void set_connecting(Transfer *t, bool connecting) {
    if (t->connecting != connecting) {
        t->connecting = connecting;
        if (connecting) {
            worker->connecting++;
        } else {
            worker->connecting--;
        }
        set_timer_cancelable();
    }
}

void list_add(Transfer *t) {
    t->prev = nullptr;
    t->next = worker->transfers;
    if (worker->transfers != nullptr) {
        worker->transfers->prev = t;
    }
    worker->transfers = t;
    set_timer_cancelable();
}

void list_remove(Transfer *t) {
    if (t->prev != nullptr) {
        t->prev->next = t->next;
    } else if (worker->transfers == t) {
        worker->transfers = t->next;
    }
    if (t->next != nullptr) {
        t->next->prev = t->prev;
    }
    t->prev = t->next = nullptr;
    set_timer_cancelable();
}

// Collects finished transfers and hands each to its owner. Runs from nginx event handlers
// only (never inside a libcurl callback), so owners may call libcurl and finalize requests.
void process_done() {
    CURLMsg *msg;
    int left;
    while (worker != nullptr && (msg = curl_multi_info_read(worker->multi, &left)) != nullptr) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;  // msg is invalid after remove_handle
        char *priv = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        auto *t = reinterpret_cast<Transfer *>(priv);
        if (t == nullptr) {
            continue;
        }
        set_connecting(t, false);
        if (t->done != nullptr) {
            t->done(t, result);
        }
    }
}

void socket_action(curl_socket_t fd, int mask) {
    int running = 0;  // libcurl's count of transfers in progress: `connecting` is ours
    CURLMcode rc = curl_multi_socket_action(worker->multi, fd, mask, &running);
    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, worker->log, 0, "wa_pair: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(rc));
    }
    process_done();
}

void on_timer(ngx_event_t *ev) {
    (void) ev;
    if (worker != nullptr) {
        socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
}

void on_socket_event(ngx_event_t *ev) {
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    if (worker == nullptr) {
        return;
    }
    socket_action(c->fd, ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN);
}

// CURLMOPT_SOCKETFUNCTION: only updates nginx's view of the socket.
int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void) easy;
    (void) userp;
    auto *c = static_cast<ngx_connection_t *>(socketp);

    if (what == CURL_POLL_REMOVE) {
        if (c != nullptr) {
            release_connection(c);
            curl_multi_assign(worker->multi, fd, nullptr);
        }
        return 0;
    }

    if (c == nullptr) {
        c = ngx_get_connection(fd, worker->log);
        if (c == nullptr) {
            return -1;  // curl fails the transfer; nginx already logged "worker_connections"
        }
        c->log = worker->log;
        c->read->log = worker->log;
        c->write->log = worker->log;
        c->read->handler = on_socket_event;
        c->write->handler = on_socket_event;
        c->data = worker;
        curl_multi_assign(worker->multi, fd, c);
    }

    want_event(c->read, NGX_READ_EVENT, what == CURL_POLL_IN || what == CURL_POLL_INOUT);
    want_event(c->write, NGX_WRITE_EVENT, what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
    return 0;
}

// CURLMOPT_TIMERFUNCTION: -1 deletes the timer, 0 means "as soon as possible".
int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
    (void) multi;
    auto *w = static_cast<Worker *>(userp);
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);  // ngx_add_timer alone may keep an older, later deadline
    }
    if (timeout_ms >= 0) {
        ngx_add_timer(&w->timer, static_cast<ngx_msec_t>(timeout_ms));
    }
    return 0;
}

void free_parsed_url(void *data) {
    curl_url_cleanup(static_cast<CURLU *>(data));
    curl_global_cleanup();
}

}  // namespace

void want_event(ngx_event_t *ev, ngx_int_t event, bool want) noexcept {
    if (want && !ev->active) {
        if (ngx_add_event(ev, event, 0) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "wa_pair: adding a backend socket event failed");
        }
    } else if (!want && ev->active) {
        ngx_del_event(ev, event, 0);
    }
}

void release_connection(ngx_connection_t *c) noexcept {
    if (fcntl(c->fd, F_GETFD) == -1 && ngx_errno == EBADF) {
        // libcurl 7.88 closes a socket it was still connecting (a transfer removed by a
        // client that went away) before its CURL_POLL_REMOVE, and closes it itself, not
        // through CURLOPT_CLOSESOCKETFUNCTION. The kernel has already taken the closed fd
        // out of epoll: forget the events without a syscall, as ngx_close_connection()
        // does (NGX_CLOSE_EVENT), instead of an epoll_ctl() that fails with EBADF [alert].
        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }
        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }
    }
    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }
    want_event(c->read, NGX_READ_EVENT, false);
    want_event(c->write, NGX_WRITE_EVENT, false);
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
    // curl owns and closes the fd: give the connection back without closing it.
    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}

Transfer::~Transfer() {
    transfer_stop(this);
}

ngx_int_t curl_worker_init(ngx_cycle_t *cycle) noexcept {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "wa_pair: curl_global_init() failed");
        return NGX_ERROR;
    }
    auto *w = new (std::nothrow) Worker();
    if (w == nullptr) {
        return NGX_ERROR;
    }
    w->log = cycle->log;
    w->multi = curl_multi_init();
    if (w->multi == nullptr) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "wa_pair: curl_multi_init() failed");
        delete w;
        return NGX_ERROR;
    }
    ngx_memzero(&w->timer, sizeof(ngx_event_t));
    w->timer.handler = on_timer;
    w->timer.data = w;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;

    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    // CURLMOPT_MAXCONNECTS stays libcurl's default, four per easy handle: each connection
    // belongs to one CONNECT_ONLY handle, so the cache never closes one to make room.
    worker = w;
    return NGX_OK;
}

void curl_worker_exit() noexcept {
    Worker *w = worker;
    if (w == nullptr) {
        return;
    }
    while (w->transfers != nullptr) {
        transfer_stop(w->transfers);
    }
    while (w->nspare > 0) {
        curl_easy_cleanup(w->spare[--w->nspare].easy);
    }
    // curl_multi_cleanup() calls the socket and timer callbacks: they need `worker`.
    curl_multi_cleanup(w->multi);
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
    worker = nullptr;
    delete w;
    curl_global_cleanup();
}

bool parsed_url_create(ngx_pool_t *pool, const char *url, ParsedUrl &out) noexcept {
    // Never reused in this process, unlike the CURLU's address (configurations are parsed
    // in one thread).
    static uint64_t last_id = 0;
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == nullptr) {
        return false;
    }
    // libcurl is initialised before any other call to it, in the master too (it parses the
    // configuration); reference counted, and released with the CURLU (free_parsed_url).
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return false;
    }
    CURLU *u = curl_url();
    // The flags libcurl itself parses a CURLOPT_URL with (url.c, parseurlandfillconn).
    if (u == nullptr ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        curl_url_cleanup(u);
        curl_global_cleanup();
        return false;
    }
    cln->handler = free_parsed_url;
    cln->data = u;
    out.url = u;
    out.id = ++last_id;
    return true;
}

bool transfer_prepare(Transfer *t, ngx_log_t *log) noexcept {
    if (worker != nullptr && worker->nspare > 0) {
        const Worker::Spare &s = worker->spare[--worker->nspare];
        t->easy = s.easy;
        t->easy_target = s.target;
    } else {
        t->easy = curl_easy_init();
        t->easy_target = 0;
        if (t->easy == nullptr) {
            ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_easy_init() failed");
            return false;
        }
        // The same for every call: set once per handle.
        CURL *e = t->easy;
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROXY, "");  // never an http_proxy from the environment
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
        // libcurl connects and keeps the connection with the handle (ngx_wa_pair_link.cpp)
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    }
    CURL *e = t->easy;
    t->error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    return true;
}

void transfer_set_target(Transfer *t, const ParsedUrl *parsed, const char *url,
                         const char *unix_socket) noexcept {
    CURL *e = t->easy;
    if (parsed != nullptr && parsed->id == t->easy_target) {
        // The handle's last call went to the same place: libcurl still has the URL text it
        // built from this CURLU (data->set.str[STRING_SET_URL]) and the same socket path.
        return;
    }
    if (parsed != nullptr) {
        // A NULL CURLOPT_URL drops the text built from the previous CURLU, so that libcurl
        // builds it again from this one (once: it keeps it for the calls after).
        curl_easy_setopt(e, CURLOPT_URL, static_cast<char *>(nullptr));
        curl_easy_setopt(e, CURLOPT_CURLU, parsed->url);
        t->easy_target = parsed->id;
    } else {
        curl_easy_setopt(e, CURLOPT_CURLU, static_cast<CURLU *>(nullptr));
        curl_easy_setopt(e, CURLOPT_URL, url);
        t->easy_target = 0;
    }
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, unix_socket);
}

bool transfer_start(Transfer *t, ngx_log_t *log) noexcept {
    if (worker == nullptr || t->easy == nullptr) {
        return false;
    }
    CURLMcode rc = curl_multi_add_handle(worker->multi, t->easy);
    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_multi_add_handle() failed: %s",
                      curl_multi_strerror(rc));
        return false;
    }
    list_add(t);
    set_connecting(t, true);
    return true;
}

void transfer_stop(Transfer *t) noexcept {
    if (t->easy != nullptr) {
        if (worker != nullptr && (t->prev != nullptr || worker->transfers == t)) {
            set_connecting(t, false);
            list_remove(t);
            curl_multi_remove_handle(worker->multi, t->easy);
        }
        if (worker != nullptr && worker->nspare < sizeof(worker->spare) / sizeof(worker->spare[0])) {
            // Kept with its options (the multi handle keeps the connections); only the ones
            // that point into this transfer are cleared, as it is about to be freed. The
            // next transfer sets them, and every option that differs from call to call.
            CURL *e = t->easy;
            curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void *>(nullptr));
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, static_cast<char *>(nullptr));
            worker->spare[worker->nspare++] = {e, t->easy_target};
        } else {
            curl_easy_cleanup(t->easy);
        }
        t->easy = nullptr;
        t->easy_target = 0;
    }
}

}  // namespace wa_pair
