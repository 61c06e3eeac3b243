// libcurl multi <-> nginx event loop (ngx_wa_pair_curl.hpp). The traps of libcurl inside
// nginx, each handled here: curl owns its fds (the nginx connection is freed, the fd never
// closed by us); events from ngx_get_connection() get a log; posted events are deleted before
// a connection is freed; libcurl is never called from inside its own callbacks (finished fetches
// are collected after curl_multi_socket_action() returns); the timer callback survives
// curl_multi_cleanup().

#include "nginx/ngx_wa_pair_curl.hpp"
#include "nginx/ngx_wa_pair_caught.hpp"

#include <fcntl.h>

#include <new>

namespace ngx_wa_pair {
namespace {

struct Worker {
    CURLM *multi = nullptr;
    ngx_event_t timer;
    ngx_log_t *log = nullptr;
    Fetch *fetches = nullptr;  // running
};

Worker *worker;  // this process's, from its first fetch to exit_process

void want_event(ngx_event_t *ev, ngx_int_t event, bool want) {
    if (want && !ev->active) {
        if (ngx_add_event(ev, event, 0) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, ev->log, 0, "wa_pair: adding a key fetch's socket event failed");
        }
    } else if (!want && ev->active) {
        ngx_del_event(ev, event, 0);
    }
}

// Gives back the nginx connection of a libcurl socket without closing the fd: libcurl owns it.
void release_connection(ngx_connection_t *c) {
    if (fcntl(c->fd, F_GETFD) == -1 && ngx_errno == EBADF) {
        // libcurl may close a socket before its CURL_POLL_REMOVE: the kernel has taken it out
        // of epoll already. Forget the events without a syscall, as ngx_close_connection()
        // does, instead of an epoll_ctl() that fails with EBADF.
        if (c->read->active) {
            ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }
        if (c->write->active) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }
    }
    want_event(c->read, NGX_READ_EVENT, false);
    want_event(c->write, NGX_WRITE_EVENT, false);
    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }
    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }
    ngx_free_connection(c);
    c->fd = (ngx_socket_t)-1;
}

void list_remove(Fetch *f) {
    if (f->prev != nullptr) {
        f->prev->next = f->next;
    } else if (worker != nullptr && worker->fetches == f) {
        worker->fetches = f->next;
    }
    if (f->next != nullptr) {
        f->next->prev = f->prev;
    }
    f->prev = f->next = nullptr;
}

bool running(const Fetch *f) {
    return f->easy != nullptr;
}

// Detaches the easy handle and frees it: the fetch is over.
void finish(Fetch *f) {
    list_remove(f);
    if (worker != nullptr) {
        curl_multi_remove_handle(worker->multi, f->easy);
    }
    curl_easy_cleanup(f->easy);
    f->easy = nullptr;
}

// Hands finished fetches to their owners, from nginx event handlers only.
void process_done() {
    CURLMsg *msg;
    int left;
    while (worker != nullptr && (msg = curl_multi_info_read(worker->multi, &left)) != nullptr) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        const CURLcode result = msg->data.result;  // msg is invalid after remove_handle
        char *priv = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        auto *f = reinterpret_cast<Fetch *>(priv);
        if (f == nullptr) {
            continue;
        }
        f->result = result;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &f->status);
        if (f->status >= 300 && f->status < 400) {
            char *target = nullptr;
            if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &target) == CURLE_OK && target != nullptr) {
                try {
                    f->location = target;
                } catch (...) {
                    log_caught(worker->log, "a key fetch's redirect");
                    f->location.clear();
                }
            }
        }
        if (result == CURLE_FILESIZE_EXCEEDED) {
            f->too_large = true;  // refused by its Content-Length, before its body
        }
        finish(f);
        if (f->done != nullptr) {
            f->done(f);  // may start another fetch, or free f
        }
    }
}

void socket_action(curl_socket_t fd, int mask) {
    int still = 0;
    CURLMcode rc = curl_multi_socket_action(worker->multi, fd, mask, &still);
    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, worker->log, 0, "wa_pair: curl_multi_socket_action() failed: %s",
                      curl_multi_strerror(rc));
    }
    process_done();
}

void on_timer(ngx_event_t *) {
    if (worker != nullptr) {
        socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
}

void on_socket_event(ngx_event_t *ev) {
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    if (worker != nullptr) {
        socket_action(c->fd, ev->write ? CURL_CSELECT_OUT : CURL_CSELECT_IN);
    }
}

// CURLMOPT_SOCKETFUNCTION: only updates nginx's view of the socket.
int on_curl_socket(CURL *, curl_socket_t fd, int what, void *, void *socketp) {
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
            return -1;  // the fetch fails; nginx has logged "worker_connections are not enough"
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

// CURLMOPT_TIMERFUNCTION: -1 deletes the timer, 0 means as soon as possible. Cancelable: a key
// fetch never holds up a worker that is shutting down (exit_process stops it).
int on_curl_timer(CURLM *, long timeout_ms, void *userp) {
    auto *w = static_cast<Worker *>(userp);
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
    if (timeout_ms >= 0) {
        ngx_add_timer(&w->timer, static_cast<ngx_msec_t>(timeout_ms));
    }
    return 0;
}

size_t on_body(char *data, size_t size, size_t n, void *userp) {
    auto *f = static_cast<Fetch *>(userp);
    const size_t bytes = size * n;
    if (f->body.size() + bytes > f->max_body) {
        f->too_large = true;
        return 0;  // CURLE_WRITE_ERROR
    }
    try {
        f->body.append(data, bytes);
    } catch (...) {
        log_caught(ngx_cycle->log, "a key fetch's body");
        return 0;
    }
    return bytes;
}

size_t on_header(char *data, size_t size, size_t n, void *userp) {
    auto *f = static_cast<Fetch *>(userp);
    const size_t bytes = size * n;
    const std::string_view line(data, bytes);
    constexpr std::string_view kName = "cache-control:";
    try {
        if (line.size() >= 5 && line.compare(0, 5, "HTTP/") == 0) {
            f->cache_control.clear();  // a new answer (after a 100 Continue, say)
        } else if (line.size() > kName.size() &&
                   ngx_strncasecmp(reinterpret_cast<u_char *>(data),
                                   reinterpret_cast<u_char *>(const_cast<char *>(kName.data())), kName.size()) == 0) {
            std::string_view value = line.substr(kName.size());
            while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
                value.remove_suffix(1);
            }
            if (!f->cache_control.empty()) {
                f->cache_control += ',';
            }
            f->cache_control.append(value);
        }
    } catch (...) {
        log_caught(ngx_cycle->log, "a key fetch's header");
        return 0;
    }
    return bytes;
}

bool worker_init(ngx_log_t *log) {
    if (worker != nullptr) {
        return true;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_global_init() failed");
        return false;
    }
    auto *w = new (std::nothrow) Worker();
    if (w == nullptr || (w->multi = curl_multi_init()) == nullptr) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_multi_init() failed");
        delete w;
        curl_global_cleanup();
        return false;
    }
    w->log = ngx_cycle->log;
    ngx_memzero(&w->timer, sizeof(ngx_event_t));
    w->timer.handler = on_timer;
    w->timer.data = w;
    w->timer.log = w->log;
    w->timer.cancelable = 1;
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    worker = w;
    return true;
}

}  // namespace

Fetch::~Fetch() {
    fetch_stop(this);
}

bool fetch_start(Fetch *f, ngx_log_t *log) noexcept {
    if (running(f) || !worker_init(log)) {
        return false;
    }
    f->result = CURLE_OK;
    f->status = 0;
    f->too_large = false;
    f->body.clear();
    f->cache_control.clear();
    f->location.clear();
    f->error[0] = '\0';

    CURL *e = curl_easy_init();
    if (e == nullptr) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_easy_init() failed");
        return false;
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->error);
    curl_easy_setopt(e, CURLOPT_URL, f->url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");                    // never an https_proxy from the environment
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");  // URLs are checked at nginx -t
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);           // the owner decides (location)
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!f->ca_file.empty()) {
        curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file.c_str());
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, f->timeout_ms);
    // A fetch happens once in a long while: no connection is kept (nor an fd) between them.
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ngx_wa_pair");
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(f->max_body));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);

    CURLMcode rc = curl_multi_add_handle(worker->multi, e);
    if (rc != CURLM_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: curl_multi_add_handle() failed: %s", curl_multi_strerror(rc));
        curl_easy_cleanup(e);
        return false;
    }
    f->easy = e;
    f->prev = nullptr;
    f->next = worker->fetches;
    if (worker->fetches != nullptr) {
        worker->fetches->prev = f;
    }
    worker->fetches = f;
    return true;
}

void fetch_stop(Fetch *f) noexcept {
    if (running(f)) {
        finish(f);
    }
}

std::string fetch_failure(const Fetch &f) {
    if (f.too_large) {
        return "answer larger than " + std::to_string(f.max_body) + " bytes";
    }
    if (f.result == CURLE_OK) {
        return {};
    }
    return f.error[0] != '\0' ? std::string(f.error) : std::string(curl_easy_strerror(f.result));
}

void curl_worker_exit() noexcept {
    Worker *w = worker;
    if (w == nullptr) {
        return;
    }
    while (w->fetches != nullptr) {
        finish(w->fetches);
    }
    // curl_multi_cleanup() may call the socket and timer callbacks: they need `worker`.
    curl_multi_cleanup(w->multi);
    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
    worker = nullptr;
    delete w;
    curl_global_cleanup();
}

}  // namespace ngx_wa_pair
