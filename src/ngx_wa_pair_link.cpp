// Backend calls on kept-alive libcurl connections. See ngx_wa_pair_link.hpp.
//
// A link is one CONNECT_ONLY easy handle in the worker's multi handle and, once libcurl has
// connected it, an nginx connection for its socket (level-triggered events; the fd stays
// libcurl's: the nginx connection is freed, never closed, before transfer_stop() lets
// libcurl close the socket). A link is either busy (connecting, or carrying one call) or
// idle in the worker's pool, newest first, at most kMaxIdle of them, each for kIdleTimeout.
//
// A link's two timers stay set across its calls: the busy call's deadline and the idle
// timeout. The next call then usually finds each within NGX_TIMER_LAZY_DELAY of what it
// needs, and ngx_add_timer() leaves the timer tree alone, as nginx's own connections do.

#include "ngx_wa_pair_link.hpp"
#include "backend.hpp"

#include <sys/socket.h>

#include <new>

namespace wa_pair {

struct Link {
    Transfer transfer;              // the easy handle, which owns the connection
    ngx_connection_t *c = nullptr;  // set once connected
    std::string key;
    Call *call = nullptr;           // NULL when idle (in idle_links), else in busy_links
    ngx_event_t deadline;           // the busy call's timeout; stale while idle
    bool used = false;              // has carried a whole answer: a kept-alive connection
    Link *prev = nullptr;
    Link *next = nullptr;
};

namespace {

constexpr ngx_uint_t kMaxIdle = 64;        // per worker, as libcurl's cache held before
constexpr ngx_msec_t kIdleTimeout = 60000;  // as nginx's upstream keepalive_timeout

struct List {
    Link *head = nullptr;
    Link *tail = nullptr;
    ngx_uint_t n = 0;

    void push_front(Link *l) {
        l->prev = nullptr;
        l->next = head;
        if (head != nullptr) {
            head->prev = l;
        } else {
            tail = l;
        }
        head = l;
        n++;
    }
    void remove(Link *l) {
        (l->prev != nullptr ? l->prev->next : head) = l->next;
        (l->next != nullptr ? l->next->prev : tail) = l->prev;
        l->prev = l->next = nullptr;
        n--;
    }
};

List idle_links;  // this worker's, newest first
List busy_links;

void on_event(ngx_event_t *ev);
void on_deadline(ngx_event_t *ev);
void on_connected(Transfer *t, CURLcode result);
void send_request(Call *call);

void link_close(Link *l) {
    if (l->deadline.timer_set) {
        ngx_del_timer(&l->deadline);
    }
    if (l->c != nullptr) {
        release_connection(l->c);  // libcurl closes the socket with the handle's removal
        l->c = nullptr;
    }
    (l->call == nullptr ? idle_links : busy_links).remove(l);
    if (l->call != nullptr) {
        l->call->link = nullptr;
    }
    transfer_stop(&l->transfer);  // libcurl closes the connection
    delete l;
}

// The call's end: `done` runs from this event handler, or, when the call ends while it is
// being started (a reused connection that fails at once), from a posted event, so that
// call_start never calls back its caller.
void finish(Call *call, std::optional<TransportFailure> failure) {
    call->failure = failure;
    if (call->link != nullptr) {
        call->link->call = nullptr;
        call->link = nullptr;
    }
    if (call->starting) {
        ngx_post_event(&call->end, &ngx_posted_events);
        return;
    }
    call->done(call);
}

void fail(Call *call, TransportFailure failure, const char *why) {
    if (call->error.empty()) {
        try {
            call->error = why;
        } catch (...) {
        }
    }
    if (call->link != nullptr) {
        link_close(call->link);
    }
    finish(call, failure);
}

// The call's deadline on its link's timer. A stale timer that would fire after the deadline
// is taken out; one that fires before it is set again for what is left (on_deadline).
void arm_deadline(Link *l, const Call *call) {
    ngx_event_t *ev = &l->deadline;
    const auto left = static_cast<ngx_msec_int_t>(call->deadline - ngx_current_msec);
    const ngx_msec_t after = left > 0 ? static_cast<ngx_msec_t>(left) : 0;
    if (ev->timer_set && static_cast<ngx_msec_int_t>(ev->timer.key - (ngx_current_msec + after)) > 0) {
        ngx_del_timer(ev);
    }
    ev->cancelable = 0;  // a graceful exit waits for calls in flight
    ngx_add_timer(ev, after);
}

Link *link_new(Call *call, ngx_log_t *log) {
    auto *l = new (std::nothrow) Link();
    if (l == nullptr) {
        return nullptr;
    }
    l->deadline.handler = on_deadline;
    l->deadline.data = l;
    l->deadline.log = ngx_cycle->log;  // the link outlives the request
    try {
        l->key = call->key;
    } catch (...) {
        delete l;
        return nullptr;
    }
    Transfer *t = &l->transfer;
    if (!transfer_prepare(t, log)) {
        delete l;
        return nullptr;
    }
    t->done = on_connected;
    t->data = l;
    transfer_set_target(t, call->parsed, call->url, call->unix_socket);
    // libcurl's part ends with the connection: both limits are the connect timeout (the
    // call's deadline bounds the whole call).
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call->connect_timeout));
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, static_cast<long>(call->connect_timeout));
    if (!transfer_start(t, log)) {
        transfer_stop(t);
        delete l;
        return nullptr;
    }
    busy_links.push_front(l);
    l->call = call;
    call->link = l;
    arm_deadline(l, call);
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair: connecting link %p", l);
    return l;
}

// A request on a kept-alive connection that the backend had closed (the answer never began):
// once, on a new connection, as libcurl and nginx's upstream keepalive do.
bool retry(Call *call) {
    Link *l = call->link;
    if (l == nullptr || !l->used || call->retried || call->answer.bytes_seen() != 0) {
        return false;
    }
    link_close(l);
    call->retried = true;
    call->sent = 0;
    call->answer.reset(call->max_response);
    if (link_new(call, ngx_cycle->log) == nullptr) {
        fail(call, TransportFailure::unreachable, "no new connection for a retry");
    }
    return true;
}

const char *curl_error(const Link *l, CURLcode rc) {
    return l->transfer.error[0] != '\0' ? l->transfer.error : curl_easy_strerror(rc);
}

void on_connected(Transfer *t, CURLcode result) {
    auto *l = static_cast<Link *>(t->data);
    Call *call = l->call;
    if (result != CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &call->os_errno);
        const TransportFailure failure = result == CURLE_OPERATION_TIMEDOUT ? TransportFailure::timeout
                                    : result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST
                                        ? TransportFailure::unreachable
                                        : TransportFailure::bad_answer;
        // unreachable: libcurl's short text, without its "localhost port 80", which would
        // mislead for a unix: backend
        fail(call, failure,
             failure == TransportFailure::unreachable ? curl_easy_strerror(result) : curl_error(l, result));
        return;
    }
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(t->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
        fail(call, TransportFailure::unreachable, "libcurl gave no connected socket");
        return;
    }
    // Ties the connection to its handle for good: libcurl 7.88 attaches a CONNECT_ONLY
    // connection to its handle at the first curl_easy_send (easy.c, Curl_senddata) and never
    // detaches it until the handle is removed; a connection in use is never closed by the
    // cache (url.c, extract_if_dead: no liveness probe, no maximum age). Nothing is sent:
    // the calls' bytes go with send() and recv() on the socket, as nginx's upstream does,
    // because curl_easy_send/curl_easy_recv find their connection by a walk over every
    // connection of the multi handle, a cost that grows with the pool.
    size_t none = 0;
    curl_easy_send(t->easy, "", 0, &none);
    ngx_log_t *log = ngx_cycle->log;
    ngx_connection_t *c = ngx_get_connection(fd, log);
    if (c == nullptr) {
        fail(call, TransportFailure::unreachable, "no free nginx connection (worker_connections)");
        return;
    }
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = on_event;
    c->write->handler = on_event;
    c->read->cancelable = 1;  // its only timer is the idle one: it never holds a graceful exit
    c->data = l;
    l->c = c;
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair: link %p connected, fd:%d", l, fd);
    // Level-triggered, for the connection's life: an answer, or a close while idle.
    if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
        fail(call, TransportFailure::unreachable, "adding the backend socket's read event failed");
        return;
    }
    send_request(call);
}

void want_write(ngx_connection_t *c, bool want) {
    want_event(c->write, NGX_WRITE_EVENT, want);
}

// "recv() failed (104: Connection reset by peer)", as nginx words it.
void io_failure(Call *call, const char *op, ngx_err_t err) {
    u_char text[NGX_MAX_ERROR_STR];
    u_char *end = ngx_strerror(err, text, sizeof(text));
    char line[NGX_MAX_ERROR_STR + 64];
    ngx_snprintf(reinterpret_cast<u_char *>(line), sizeof(line) - 1, "%s() failed (%d: %*s)%Z", op,
                 static_cast<int>(err), static_cast<size_t>(end - text), text);
    fail(call, TransportFailure::bad_answer, line);
}

void send_request(Call *call) {
    Link *l = call->link;
    while (call->sent < call->request.size()) {
        const ssize_t n = send(l->c->fd, call->request.data() + call->sent,
                               call->request.size() - call->sent, MSG_NOSIGNAL);
        if (n >= 0) {
            call->sent += static_cast<size_t>(n);
            continue;
        }
        const ngx_err_t err = ngx_socket_errno;
        if (err == NGX_EINTR) {
            continue;
        }
        if (err == NGX_EAGAIN) {
            want_write(l->c, true);
            return;
        }
        if (!retry(call)) {
            io_failure(call, "send", err);
        }
        return;
    }
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, l->c->log, 0, "wa_pair: link %p sent %uz bytes", l, call->sent);
    want_write(l->c, false);
}

// Back to the pool when the answer left the connection clean, else closed.
void link_done(Link *l, bool keep) {
    if (!keep || l->c == nullptr) {
        link_close(l);
        return;
    }
    l->used = true;
    l->call = nullptr;
    want_write(l->c, false);
    busy_links.remove(l);
    idle_links.push_front(l);
    l->c->idle = 1;  // closed by nginx's ngx_close_idle_connections() on a graceful exit
    ngx_add_timer(l->c->read, kIdleTimeout);  // mostly within the lazy delay of the last one
    l->deadline.cancelable = 1;  // stale now: it does not hold a graceful exit
    if (idle_links.n > kMaxIdle) {
        link_close(idle_links.tail);
    }
}

void read_answer(Call *call) {
    Link *l = call->link;
    char buf[8192];
    for (;;) {
        const ssize_t n = recv(l->c->fd, buf, sizeof(buf), 0);
        ResponseReader::State state;
        if (n < 0) {
            const ngx_err_t err = ngx_socket_errno;
            if (err == NGX_EINTR) {
                continue;
            }
            if (err == NGX_EAGAIN) {
                return;
            }
            if (!retry(call)) {
                io_failure(call, "recv", err);
            }
            return;
        }
        if (n == 0) {
            if (retry(call)) {
                return;
            }
            state = call->answer.eof();
        } else {
            try {
                state = call->answer.feed(buf, static_cast<size_t>(n));
            } catch (...) {
                fail(call, TransportFailure::bad_answer, "out of memory");
                return;
            }
        }
        if (state == ResponseReader::State::more) {
            continue;
        }
        if (state == ResponseReader::State::failed) {
            fail(call, call->answer.too_large() ? TransportFailure::too_large : TransportFailure::bad_answer,
                 call->answer.error());
            return;
        }
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, l->c->log, 0, "wa_pair: link %p read a %d answer, keep:%d", l,
                       call->answer.status(), n != 0 && call->answer.keep_alive());
        link_done(l, n != 0 && call->answer.keep_alive());
        finish(call, std::nullopt);
        return;
    }
}

void on_event(ngx_event_t *ev) {
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    auto *l = static_cast<Link *>(c->data);
    if (ev->timedout && l->call != nullptr) {
        ev->timedout = 0;  // the idle timeout, left set when the link was taken: not this call's
        return;
    }
    if (l->call == nullptr) {
        // Idle: the backend closed it or sent what nobody asked for, its time is up, or the
        // worker is exiting.
        if (!ev->write || c->close || ev->timedout) {
            link_close(l);
        }
        return;
    }
    if (ev->write) {
        send_request(l->call);
    } else {
        read_answer(l->call);
    }
}

void on_deadline(ngx_event_t *ev) {
    auto *l = static_cast<Link *>(ev->data);
    Call *call = l->call;
    if (call == nullptr) {
        return;  // idle: an earlier call's deadline
    }
    if (static_cast<ngx_msec_int_t>(call->deadline - ngx_current_msec) > 0) {
        arm_deadline(l, call);  // an earlier call's deadline, kept by the lazy ngx_add_timer()
        return;
    }
    fail(call, TransportFailure::timeout, "no complete answer within wa_pair_backend_timeout");
}

void on_end(ngx_event_t *ev) {  // an end posted by call_start
    auto *call = static_cast<Call *>(ev->data);
    call->done(call);
}

// What the pool is keyed by: the socket, or the URL's authority (a socket path starts with
// '/', an authority never does: the two never meet).
std::string_view pool_key(const char *url, const char *unix_socket) {
    return unix_socket != nullptr ? std::string_view(unix_socket) : split_url(url).authority;
}

}  // namespace

Call::Call() noexcept {
    ngx_memzero(&end, sizeof(end));
}

Call::~Call() {
    call_stop(this);
}

bool call_start(Call *call, const ParsedUrl *parsed, const char *url, const char *unix_socket,
                ngx_log_t *log) noexcept {
    call->parsed = parsed;
    if (parsed != nullptr) {
        call->url = url;
        call->unix_socket = unix_socket;
    } else {
        try {
            call->url_buf = url;
            call->socket_buf = unix_socket != nullptr ? unix_socket : "";
        } catch (...) {
            return false;
        }
        call->url = call->url_buf.c_str();
        call->unix_socket = unix_socket != nullptr ? call->socket_buf.c_str() : nullptr;
    }
    call->key = pool_key(call->url, call->unix_socket);
    call->answer.reset(call->max_response);
    call->end.handler = on_end;
    call->end.data = call;
    call->end.log = log;
    call->deadline = ngx_current_msec + call->timeout;

    call->starting = true;  // finish() posts rather than calls back while here
    for (Link *l = idle_links.head; l != nullptr; l = l->next) {
        if (l->key == call->key) {
            idle_links.remove(l);
            l->c->idle = 0;  // its idle timer stays set (on_event)
            busy_links.push_front(l);
            l->call = call;
            call->link = l;
            arm_deadline(l, call);
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0, "wa_pair: reusing link %p", l);
            send_request(call);
            call->starting = false;
            return true;
        }
    }
    const bool started = link_new(call, log) != nullptr;
    call->starting = false;
    return started;
}

void call_stop(Call *call) noexcept {
    if (call->end.posted) {
        ngx_delete_posted_event(&call->end);
    }
    if (call->link != nullptr) {
        link_close(call->link);  // the exchange was cut short: the connection cannot serve again
    }
}

void link_worker_exit() noexcept {
    while (idle_links.head != nullptr) {
        link_close(idle_links.head);
    }
    while (busy_links.head != nullptr) {
        link_close(busy_links.head);
    }
}

}  // namespace wa_pair
