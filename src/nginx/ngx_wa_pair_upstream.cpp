// The backend call on nginx's upstream (ngx_http_upstream_t), the way the memcached module
// drives it: nginx connects (unix:, TCP, TLS, upstream{} groups with their balancers, keepalive
// and max_conns), sends the request, and hands the module every piece of the answer.
//
// The module reads the WHOLE answer in process_header (src/backend/http1.hpp) and only then answers
// NGX_OK, with the engine's answer replaced by the contract's envelope: nginx's upstream sends
// that envelope to the client as if the engine had answered it. Every failure before (no
// connection, time out, an answer refused) ends in nginx's own error page, which the error
// filter (ngx_wa_pair_filters.cpp) turns into the envelope the call's failure says.
//
// A pairing request is written at most once: nginx never resends a POST that was sent
// (NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT, which wa_pair_next_upstream refuses).

#include <algorithm>
#include <optional>
#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"
#include "common/ascii.hpp"
#include "backend/backend.hpp"
#include "edge/phone.hpp"

namespace ngx_wa_pair {

namespace {

wa_pair::Protocol protocol_of(const wa_pair_loc_conf_t *lcf) {
    return static_cast<wa_pair::Protocol>(lcf->backend_protocol);
}

ngx_str_t pool_copy(ngx_pool_t *pool, std::string_view s) {
    ngx_str_t out{s.size(), static_cast<u_char *>(ngx_pnalloc(pool, s.size() + 1))};
    if (out.data != nullptr) {
        if (!s.empty()) {  // an empty view's data() may be null
            ngx_memcpy(out.data, s.data(), s.size());
        }
        out.data[s.size()] = '\0';
    }
    return out;
}

// A value with variables, evaluated for this request, as proxy_pass's: a literal address is
// connected to as it is; a name is an upstream{} block's, or resolved with `resolver`.
bool evaluate_url(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, BackendCall &call, std::string &host,
                  std::string &uri) {
    ngx_http_upstream_t *u = r->upstream;
    ngx_str_t value;
    if (ngx_http_complex_value(r, lcf->backend_cv, &value) != NGX_OK) {
        return false;
    }
    wa_pair::BackendUrl url = wa_pair::parse_backend_url(view(value), wa_pair::default_path(protocol_of(lcf)));
    if (!url.error.empty()) {  // the directive is named, not the value (it may carry a key)
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wa_pair: \"wa_pair_backend %V\" gave an invalid URL for this request: %s", &lcf->backend_raw,
                      url.error.c_str());
        return false;
    }
#if (NGX_HTTP_SSL)
    if (url.tls && lcf->upstream.ssl == nullptr) {
#else
    if (url.tls) {
#endif
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wa_pair: \"wa_pair_backend %V\" gave an https URL, and the location has no TLS",
                      &lcf->backend_raw);
        return false;
    }
    ngx_url_t nu;
    ngx_memzero(&nu, sizeof(ngx_url_t));
    nu.url = pool_copy(r->pool, url.address);
    nu.default_port = url.tls ? 443 : 80;
    nu.no_resolve = 1;
    if (nu.url.data == nullptr || ngx_parse_url(r->pool, &nu) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wa_pair: \"wa_pair_backend %V\" gave an address nginx cannot use for this request: %s",
                      &lcf->backend_raw, nu.err ? nu.err : "out of memory");
        return false;
    }
    u->resolved =
        static_cast<ngx_http_upstream_resolved_t *>(ngx_pcalloc(r->pool, sizeof(ngx_http_upstream_resolved_t)));
    if (u->resolved == nullptr) {
        return false;
    }
    if (nu.addrs != nullptr) {
        u->resolved->sockaddr = nu.addrs[0].sockaddr;
        u->resolved->socklen = nu.addrs[0].socklen;
        u->resolved->name = nu.addrs[0].name;
        u->resolved->naddrs = 1;
    }
    u->resolved->host = nu.host;
    u->resolved->port = static_cast<in_port_t>(nu.no_port ? nu.default_port : nu.port);
    u->resolved->no_port = nu.no_port;

#if (NGX_HTTP_SSL)
    u->ssl = url.tls;
#endif
    const std::string_view path = std::string_view(url.uri).substr(0, url.uri.find('?'));
    u->uri = pool_copy(r->pool, path);
    call.log_name_buf = wa_pair::backend_log_name(url);
    call.log_name = call.log_name_buf.c_str();
    host = std::move(url.host);
    uri = std::move(url.uri);
    return u->uri.data != nullptr;
}

// The protocol's request with the origin's claims and the operator's headers
// (wa_pair_backend_header, evaluated now), in HTTP/1.1 bytes.
bool build_request(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx, std::string_view host,
                   std::string_view uri) {
    std::string_view authorization;
    if (r->headers_in.authorization != nullptr) {
        authorization = view(r->headers_in.authorization->value);
    }
    wa_pair::BackendRequest request =
        ctx->session.exchange->request({ctx->device_id, ctx->phone, authorization, request_id(r)});
    // The token's claims, so that an engine with a database can enforce them too.
    if (!ctx->api_key_id.empty()) {
        request.headers.push_back({"X-Api-Key-Id", ctx->api_key_id});
    }
    if (!ctx->token_version.empty()) {
        request.headers.push_back({"X-Token-Version", ctx->token_version});
    }
    if (lcf->backend_headers != nullptr) {
        std::vector<wa_pair::Header> headers;
        auto *h = static_cast<backend_header_t *>(lcf->backend_headers->elts);
        for (ngx_uint_t i = 0; i < lcf->backend_headers->nelts; i++) {
            ngx_str_t value;
            if (ngx_http_complex_value(r, &h[i].value, &value) != NGX_OK) {
                return false;
            }
            if (!wa_pair::valid_header_value(view(value))) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "wa_pair: the value of \"wa_pair_backend_header %V\" has control "
                              "characters in this request: not sent",
                              &h[i].name);
                return false;
            }
            headers.push_back(wa_pair::Header{std::string(view(h[i].name)), std::string(view(value))});
        }
        wa_pair::apply_operator_headers(request, headers);
    }
    const std::string_view id = request_id(r);
    for (const wa_pair::Header &h : request.headers) {
        if (!id.empty() && h.value == id && wa_pair::ascii::iequals(h.name, "X-Request-ID")) {
            ctx->call->sent_id = id;
        }
    }
    std::string with_query;
    if (!request.query.empty()) {
        with_query = wa_pair::append_query(uri, request.query);
        uri = with_query;
    }
    wa_pair::write_http_request(ctx->call->request, request.post, uri, host, request.headers, request.body);
    return true;
}

// ---------------------------------------------------------------- the upstream's callbacks

ngx_int_t create_request(ngx_http_request_t *r) noexcept {
    std::string &bytes = get_ctx(r)->call->request;
    auto *b = static_cast<ngx_buf_t *>(ngx_pcalloc(r->pool, sizeof(ngx_buf_t)));
    ngx_chain_t *cl = ngx_alloc_chain_link(r->pool);
    if (b == nullptr || cl == nullptr) {
        return NGX_ERROR;
    }
    // The request's pool owns the bytes (the context's string) until the request ends.
    b->start = b->pos = reinterpret_cast<u_char *>(bytes.data());
    b->end = b->last = b->pos + bytes.size();
    b->memory = 1;
    cl->buf = b;
    cl->next = nullptr;
    r->upstream->request_bufs = cl;
    return NGX_OK;
}

// Another server of the group is tried (only when the request was not sent).
ngx_int_t reinit_request(ngx_http_request_t *r) noexcept {
    BackendCall &call = *get_ctx(r)->call;
    call.answer.reset(loc_conf(r)->backend_buffer_size);
    call.failure.reset();
    return NGX_OK;
}

// The answer is whole: its envelope takes its place. The envelope is what nginx's upstream
// sends on (its length is the Content-Length), from the receive buffer or, when larger, its own.
ngx_int_t answer(ngx_http_request_t *r, RequestCtx *ctx, wa_pair_loc_conf_t *lcf) {
    ngx_http_upstream_t *u = r->upstream;
    BackendCall &call = *ctx->call;
    const wa_pair::ResponseReader &answer = call.answer;
    // A native engine that echoes X-Request-ID says whose answer this is: another request's
    // is a stray one (written after an earlier answer on a kept connection), never a code.
    if (protocol_of(lcf) == wa_pair::Protocol::native && answer.has_request_id() && !call.sent_id.empty() &&
        answer.request_id() != call.sent_id) {
        call.failure = wa_pair::map_transport_failure(wa_pair::TransportFailure::bad_answer);
        log_failure(r, ctx, NGX_LOG_ERR, "failed: it answered with another request's X-Request-ID");
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
    u->keepalive = answer.keep_alive();
    if (u->state != nullptr) {
        u->state->status = static_cast<ngx_uint_t>(answer.status());  // $upstream_status: the engine's
    }
    wa_pair::PairCode pc;
    if (session_answer(r, ctx, answer.status(), answer.body(), answer.retry_after(), pc)) {
        return NGX_ERROR;  // the exchange goes on with another call (ngx_wa_pair_session.cpp)
    }
    if (pc.failure) {
        // A failure of the backend is an error; an engine session that needs its operator
        // (stopped, failed) a warning; an answer about the request (already paired, refused,
        // rate limited, the origin refusing the client's token) is information.
        const std::string what = "answered " + std::to_string(answer.status()) + ": " + std::string(pc.reason);
        log_failure(r, ctx,
                    pc.log_level == wa_pair::LogLevel::error  ? NGX_LOG_ERR
                    : pc.log_level == wa_pair::LogLevel::warn ? NGX_LOG_WARN
                                                              : NGX_LOG_INFO,
                    what);
    }
    zone_after_backend(ctx, pc);
    ctx->outcome = pc.outcome;

    const int status = pc.failure ? pc.failure.code : NGX_HTTP_OK;
    const std::optional<std::string> envelope =
        pc.failure ? wa_pair::error_envelope(status, pc.failure.error) : wa_pair::success_envelope(pc.code, pc.timeout);
    if (!envelope) {
        return NGX_ERROR;
    }
    const std::string &body = *envelope;
    if ((pc.has_retry_after && !add_header(r, "Retry-After", std::to_string(pc.retry_after))) ||
        (pc.invalid_token && !add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"")) ||
        !set_envelope_headers(r, static_cast<ngx_uint_t>(status), body.size())) {
        return NGX_ERROR;
    }
    u->headers_in.status_n = static_cast<ngx_uint_t>(status);
    u->headers_in.content_length_n = static_cast<off_t>(body.size());

    ngx_buf_t &b = u->buffer;
    if (body.size() > static_cast<size_t>(b.end - b.start)) {
        b.start = static_cast<u_char *>(ngx_palloc(r->pool, body.size()));
        if (b.start == nullptr) {
            return NGX_ERROR;
        }
        b.end = b.start + body.size();
    }
    b.pos = b.start;
    b.last = ngx_cpymem(b.start, body.data(), body.size());
    ctx->responded = true;
    return NGX_OK;
}

// Called with every piece of the answer, until it answers NGX_OK (the answer is whole) or a
// failure. The pieces are consumed: the receive buffer starts over for the next one.
ngx_int_t process_header(ngx_http_request_t *r) noexcept {
    RequestCtx *ctx = get_ctx(r);
    ngx_http_upstream_t *u = r->upstream;
    BackendCall &call = *ctx->call;
    ngx_buf_t &b = u->buffer;
    try {
        if (!u->request_body_sent) {  // nothing the engine says can answer what it has not read
            b.pos = b.last;
            call.failure = wa_pair::map_transport_failure(wa_pair::TransportFailure::bad_answer);
            log_failure(r, ctx, NGX_LOG_ERR, "failed: it answered before the request was written");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }
        const wa_pair::ResponseReader::State state =
            call.answer.feed(reinterpret_cast<const char *>(b.pos), static_cast<size_t>(b.last - b.pos));
        b.pos = b.last = b.start;
        switch (state) {
        case wa_pair::ResponseReader::State::more:
            return NGX_AGAIN;
        case wa_pair::ResponseReader::State::done:
            return answer(r, ctx, loc_conf(r));
        case wa_pair::ResponseReader::State::failed:
            break;
        }
        if (call.answer.too_large()) {
            call.failure = wa_pair::map_transport_failure(wa_pair::TransportFailure::too_large);
            const std::string what = "failed: its answer is larger than wa_pair_backend_buffer_size (" +
                                     std::to_string(loc_conf(r)->backend_buffer_size) + " bytes)";
            log_failure(r, ctx, NGX_LOG_ERR, what);
        } else {
            call.failure = wa_pair::map_transport_failure(wa_pair::TransportFailure::bad_answer);
            log_failure(r, ctx, NGX_LOG_ERR, std::string("failed: ") + call.answer.error());
        }
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    } catch (...) {
        log_caught(r->connection->log, "reading the backend's answer");
    }
    return NGX_ERROR;
}

// The envelope is the whole body nginx passes on.
ngx_int_t input_filter_init(void *data) noexcept {
    ngx_http_upstream_t *u = static_cast<ngx_http_request_t *>(data)->upstream;
    u->length = u->buffer.last - u->buffer.pos;
    return NGX_OK;
}

void abort_request(ngx_http_request_t *r) noexcept {
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: abort the backend call");
}

// How nginx's upstream ended a call that gave no envelope, in the contract's terms.
wa_pair::TransportFailure classify(ngx_http_upstream_t *u, ngx_int_t rc) {
    switch (rc) {
    case NGX_HTTP_GATEWAY_TIME_OUT:
        return wa_pair::TransportFailure::timeout;
    case NGX_HTTP_INTERNAL_SERVER_ERROR:
        return wa_pair::TransportFailure::internal;
    case NGX_HTTP_BAD_GATEWAY:
        if (u->request_sent) {
            return wa_pair::TransportFailure::no_answer;
        }
#if (NGX_HTTP_SSL)
        if (u->peer.connection != nullptr && u->peer.connection->ssl != nullptr) {
            return wa_pair::TransportFailure::tls;
        }
#endif
        // refused, no socket, no live server (down, max_conns), a name not resolved
        return wa_pair::TransportFailure::unreachable;
    default:
        return wa_pair::TransportFailure::bad_answer;
    }
}

std::string_view describe(wa_pair::TransportFailure kind) {
    switch (kind) {
    case wa_pair::TransportFailure::unreachable:
        return "is unavailable: no connection";
    case wa_pair::TransportFailure::timeout:
        return "did not answer in time";
    case wa_pair::TransportFailure::no_answer:
        return "failed: the connection ended before a whole answer";
    case wa_pair::TransportFailure::tls:
        return "failed: TLS with it failed";
    case wa_pair::TransportFailure::internal:
        return "could not be called: nginx failed";
    default:
        return "failed";
    }
}

// A call that gave no envelope leaves its failure to the error filter; a client that left or
// a request that ended otherwise leaves nothing (a zone's unrecorded call is given up with the
// request, ZoneRequest's destructor).
void end_call(ngx_http_request_t *r, ngx_int_t rc) noexcept {
    RequestCtx *ctx = get_ctx(r);
    if (ctx == nullptr || !ctx->call) {
        return;
    }
    BackendCall &call = *ctx->call;
    call.done = true;
    call.end = ngx_current_msec;
    if (ctx->responded || rc < NGX_HTTP_SPECIAL_RESPONSE || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST ||
        rc == NGX_HTTP_REQUEST_TIME_OUT) {
        return;
    }
    try {
        if (!call.failure) {
            const wa_pair::TransportFailure kind = classify(r->upstream, rc);
            call.failure = wa_pair::map_transport_failure(kind);
            log_failure(r, ctx, NGX_LOG_ERR, describe(kind));
        }
        zone_after_backend(ctx, *call.failure);
        ctx->outcome = call.failure->outcome;
    } catch (...) {
        log_caught(r->connection->log, "ending the backend call");
    }
}

// Called once, whatever ends the call, before nginx closes or keeps its connection.
void finalize_request(ngx_http_request_t *r, ngx_int_t rc) noexcept {
    end_call(r, rc);
    const RequestCtx *ctx = get_ctx(r);
    if (ctx != nullptr && ctx->call && ctx->call->goes_on) {
        return;  // one of a session's steps: the exchange is counted once, when it ends
    }
    metrics_backend_call(r, rc);
}

// The request target of a session's start or readiness call, made from the pairing call's
// (`uri`); "" for the pairing call and Evolution's QR read, which use it as it is. The error
// log names the call by its own path.
bool step_target(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, BackendCall &call, wa_pair::Step step,
                 std::string_view uri, std::string &out) {
    if (step == wa_pair::Step::pair || step == wa_pair::Step::read) {
        return true;
    }
    const wa_pair::SessionTargets targets = wa_pair::session_targets(protocol_of(lcf), uri);
    out = step == wa_pair::Step::start ? targets.start : targets.ready;
    if (out.empty()) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wa_pair: \"wa_pair_session_start\" cannot find the session's %s call in "
                      "\"wa_pair_backend %V\" for this request: %s",
                      wa_pair::step_name(step).data(), &lcf->backend_raw,
                      targets.error.empty() ? "none" : targets.error.c_str());
        return false;
    }
    const std::string_view path = std::string_view(out).substr(0, out.find('?'));
    const std::string_view pairing_path = uri.substr(0, uri.find('?'));
    r->upstream->uri = pool_copy(r->pool, path);
    // "unix:/x.sock:/api/s/auth/request-code" -> "unix:/x.sock:/api/sessions/s/start"
    std::string name(call.log_name);
    if (name.size() >= pairing_path.size() &&
        name.compare(name.size() - pairing_path.size(), pairing_path.size(), pairing_path) == 0) {
        name.resize(name.size() - pairing_path.size());
        name += path;
    }
    call.log_name_buf = std::move(name);
    call.log_name = call.log_name_buf.c_str();
    return r->upstream->uri.data != nullptr;
}

// The upstream settings of a call: the location's, with the time left to the exchange as the
// time to connect, send and answer in (the whole exchange keeps within wa_pair_backend_timeout).
ngx_http_upstream_conf_t *step_conf(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    const std::int64_t left = ctx->session.exchange->remaining(static_cast<std::int64_t>(ngx_current_msec));
    const auto budget = static_cast<ngx_msec_t>(left > 0 ? left : 1);
    if (budget >= lcf->upstream.read_timeout) {
        return &lcf->upstream;
    }
    auto *conf = static_cast<ngx_http_upstream_conf_t *>(ngx_palloc(r->pool, sizeof(ngx_http_upstream_conf_t)));
    if (conf == nullptr) {
        return nullptr;
    }
    *conf = lcf->upstream;
    conf->connect_timeout = std::min(conf->connect_timeout, budget);
    conf->send_timeout = budget;
    conf->read_timeout = budget;
    return conf;
}

}  // namespace

// Every failure of a call is logged once: the protocol, the backend as the location names it,
// what went wrong in our own words, the phone masked. Never a header value, never the query.
void log_failure(ngx_http_request_t *r, const RequestCtx *ctx, ngx_uint_t level, std::string_view what) {
    const wa_pair_loc_conf_t *lcf = loc_conf(r);
    const std::string masked = wa_pair::mask_phone(ctx->phone);
    ngx_log_error(level, r->connection->log, 0, "wa_pair: %s pairing backend \"%s\" %*s (phone %s)",
                  wa_pair::protocol_name(protocol_of(lcf)).data(), ctx->call->log_name, what.size(), what.data(),
                  masked.c_str());
}

bool backend_start(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) noexcept {
    session_begin(r, lcf, ctx);
    return backend_call(r, lcf, ctx, wa_pair::Step::pair);
}

bool backend_call(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx, wa_pair::Step step) noexcept {
    try {
        if (ngx_http_upstream_create(r) != NGX_OK) {
            return false;
        }
        ngx_http_upstream_t *u = r->upstream;
        // $wa_pair_backend_time counts the whole exchange, from its first call.
        const ngx_msec_t exchange_start = ctx->call ? ctx->call->start : ngx_current_msec;
        BackendCall &call = ctx->call.emplace(lcf->backend_buffer_size);
        std::string host_buf;
        std::string uri_buf;
        std::string_view host;
        std::string_view uri;
        if (lcf->backend_cv == nullptr) {
#if (NGX_HTTP_SSL)
            u->ssl = lcf->backend_tls;
#endif
            u->uri = lcf->backend_path;
            call.log_name = reinterpret_cast<const char *>(lcf->backend_log_name.data);
            host = view(lcf->backend_host);
            uri = view(lcf->backend_uri);
        } else if (evaluate_url(r, lcf, call, host_buf, uri_buf)) {
            host = host_buf;
            uri = uri_buf;
        } else {
            ctx->call.reset();
            return false;
        }
        std::string step_uri;
        if (!step_target(r, lcf, call, step, uri, step_uri)) {
            ctx->call.reset();
            return false;
        }
        if (!step_uri.empty()) {
            uri = step_uri;
        }
        if (!build_request(r, lcf, ctx, host, uri)) {
            ctx->call.reset();
            return false;
        }
#if (NGX_HTTP_SSL)
        const bool tls = u->ssl;
#else
        const bool tls = false;
#endif
        if (tls) {
            ngx_str_set(&u->schema, "https://");
        } else {
            ngx_str_set(&u->schema, "http://");
        }
        u->conf = step_conf(r, lcf, ctx);
        if (u->conf == nullptr) {
            ctx->call.reset();
            return false;
        }
        u->output.tag = reinterpret_cast<ngx_buf_tag_t>(&ngx_http_wa_pair_module);
        u->create_request = create_request;
        u->reinit_request = reinit_request;
        u->process_header = process_header;
        u->abort_request = abort_request;
        u->finalize_request = finalize_request;
        u->input_filter_init = input_filter_init;
        u->input_filter = ngx_http_upstream_non_buffered_filter;
        u->input_filter_ctx = r;
        u->buffering = 0;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: calling the %s backend \"%s\" (%s)",
                       wa_pair::protocol_name(protocol_of(lcf)).data(), call.log_name, wa_pair::step_name(step).data());
        call.start = exchange_start;
        ctx->session.step_started = ngx_current_msec;
        ngx_http_upstream_init(r);  // from here on nginx's upstream finalizes the request
        return true;
    } catch (...) {
        log_caught(r->connection->log, "starting the backend call");
    }
    ctx->call.reset();
    return false;
}

}  // namespace ngx_wa_pair
