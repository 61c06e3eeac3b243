// The content handler: method, authentication, body, the backend call and its answer.

#include <string>

#include "ngx_wa_pair_conf.hpp"
#include "auth.hpp"
#include "backend.hpp"
#include "http1.hpp"
#include "login_body.hpp"
#include "phone.hpp"

namespace ngx_wa_pair {

namespace {

void body_handler(ngx_http_request_t *r) noexcept;
void backend_done(wa_pair::Call *call) noexcept;

// ---------------------------------------------------------------- content handler

// NGX_DECLINED: authenticated, go on; anything else: the 401 was sent, finalize with it.
ngx_int_t authenticate(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    std::string_view authorization;
    if (r->headers_in.authorization != nullptr) {
        authorization = view(r->headers_in.authorization->value);
    }
    if (lcf->auth_config == nullptr) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "wa_pair: no authentication configured");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    wa_pair::AuthResult scratch;
    const wa_pair::AuthResult &auth =
        wa_pair::authenticate_into(authorization, *lcf->auth_config, ngx_time(), scratch);
    if (!auth.failure) {
        ctx->device_id = auth.device_id;
        ctx->auth_method = wa_pair::auth_method_name(auth.method);
        ctx->api_key_id = auth.api_key_id;
        if (auth.version) {
            ctx->token_version = std::to_string(*auth.version);
        }
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: authenticated by %s",
                       auth.method == wa_pair::AuthMethod::jwt ? "jwt" : "api_key");
        return NGX_DECLINED;
    }
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: unauthorized: %s",
                   auth.reason.c_str());
    if (!add_header(r, "WWW-Authenticate",
                    auth.token_presented ? "Bearer error=\"invalid_token\"" : "Bearer")) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return reject(r, auth.failure);
}

ngx_int_t content_handler(ngx_http_request_t *r) noexcept {
    try {
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        RequestCtx *ctx = create_ctx(r);
        if (ctx == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        // The body is never written to disk: it must fit the in-memory buffer.
        auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
        ctx->body_limit = static_cast<off_t>(clcf->client_body_buffer_size);
        if (lcf->max_body_size > 0 && lcf->max_body_size < ctx->body_limit) {
            ctx->body_limit = lcf->max_body_size;
        }

        if (!(r->method & NGX_HTTP_POST)) {
            if (!add_header(r, "Allow", "POST")) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            return reject(r, {NGX_HTTP_NOT_ALLOWED, "Only POST is allowed"});
        }

        ngx_int_t rc = authenticate(r, lcf, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        std::string_view content_type;
        if (r->headers_in.content_type != nullptr) {
            content_type = view(r->headers_in.content_type->value);
        }
        if (wa_pair::classify_content_type(content_type) == wa_pair::BodyType::unsupported) {
            return reject(r, {NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                              "Content-Type must be application/json or "
                              "application/x-www-form-urlencoded"});
        }

        if (r->headers_in.content_length_n > ctx->body_limit) {
            return reject(r, {NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "Request body is too large"});
        }

        ctx->reading_body = true;
        r->request_body_in_single_buf = 1;
        rc = ngx_http_read_client_request_body(r, body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;  // the error filter gives it the envelope
        }
        return NGX_DONE;
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "wa_pair: unexpected exception in handler");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

// ---------------------------------------------------------------- body and backend call

// The body as one view: of its only buffer (the usual case: the body came with the head),
// else of `storage`, where the buffers are joined.
bool collect_body(ngx_http_request_t *r, std::string &storage, std::string_view &body) {
    body = {};
    if (r->request_body == nullptr) {
        return true;
    }
    if (r->request_body->temp_file != nullptr) {
        return false;
    }
    ngx_chain_t *bufs = r->request_body->bufs;
    if (bufs != nullptr && bufs->next == nullptr && !bufs->buf->in_file) {
        body = {reinterpret_cast<const char *>(bufs->buf->pos), static_cast<size_t>(bufs->buf->last - bufs->buf->pos)};
        return true;
    }
    for (ngx_chain_t *cl = bufs; cl != nullptr; cl = cl->next) {
        if (cl->buf->in_file) {
            return false;
        }
        storage.append(reinterpret_cast<const char *>(cl->buf->pos),
                       static_cast<size_t>(cl->buf->last - cl->buf->pos));
    }
    body = storage;
    return true;
}

wa_pair::Protocol protocol_of(wa_pair_loc_conf_t *lcf) {
    return static_cast<wa_pair::Protocol>(lcf->backend_protocol);
}

// The protocol's request (wa_pair_backend_protocol) with the operator's headers
// (wa_pair_backend_header), handed to the worker's multi handle.
bool start_backend_call(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    BackendTarget target;
    if (!evaluate_backend(r, lcf, target)) {
        return false;
    }
    if (target.parsed != nullptr) {
        ctx->backend_name = reinterpret_cast<const char *>(lcf->backend_log_name.data);
    } else {
        ctx->backend_name_buf = std::move(target.log_name);
        ctx->backend_name = ctx->backend_name_buf.c_str();
    }

    std::string_view authorization;
    if (r->headers_in.authorization != nullptr) {
        authorization = view(r->headers_in.authorization->value);
    }
    wa_pair::BackendRequest request = wa_pair::build_request(
        protocol_of(lcf), {ctx->device_id, ctx->phone, authorization, request_id(r)});
    // The origin's claims, so that an engine with a database can enforce them too (issue 3).
    if (!ctx->api_key_id.empty()) {
        request.headers.push_back({"X-Api-Key-Id", ctx->api_key_id});
    }
    if (!ctx->token_version.empty()) {
        request.headers.push_back({"X-Token-Version", ctx->token_version});
    }
    wa_pair::apply_operator_headers(request, target.headers);

    wa_pair::Call &call = ctx->call.emplace();
    std::string with_query;
    std::string_view url = target.url;
    if (!request.query.empty()) {
        with_query = wa_pair::append_query(url, request.query);
        url = with_query;
    }
    const wa_pair::UrlParts parts = wa_pair::split_url(url);
    wa_pair::write_http_request(call.request, request.post, parts.target, parts.authority,
                                request.headers, request.body);
    call.max_response = lcf->backend_buffer_size;
    call.connect_timeout = lcf->connect_timeout;
    call.timeout = lcf->backend_timeout;
    call.done = backend_done;
    call.data = ctx;
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wa_pair: calling the %s backend \"%s\" with %uz headers",
                   wa_pair::protocol_name(protocol_of(lcf)).data(), ctx->backend_name,
                   request.headers.size());
    // The connection is made to the location's URL (parsed once by libcurl) or to the
    // evaluated one; the protocol's query only changes the request target.
    if (!wa_pair::call_start(&call, target.parsed, target.url, target.unix_socket, r->connection->log)) {
        return false;
    }
    ctx->backend_called = true;
    ctx->backend_start = ngx_current_msec;
    return true;
}

void body_handler(ngx_http_request_t *r) noexcept {
    try {
        RequestCtx *ctx = get_ctx(r);
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        ctx->reading_body = false;

        std::string storage;
        std::string_view body;
        if (!collect_body(r, storage, body)) {
            ngx_http_finalize_request(r, send_failure(r, {NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                                          "Request body is too large"}));
            return;
        }

        std::string_view content_type;
        if (r->headers_in.content_type != nullptr) {
            content_type = view(r->headers_in.content_type->value);
        }
        wa_pair::LoginRequest req =
            wa_pair::parse_login_body(wa_pair::classify_content_type(content_type), body);
        if (req.failure) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: bad request: %s",
                           req.failure.error.c_str());
            ngx_http_finalize_request(r, send_failure(r, req.failure));
            return;
        }
        ctx->phone = std::move(req.phone);

        if (zone_before_backend(r, ctx, req.refresh)) {
            return;  // answered from the zone, or waiting for the same call in flight
        }
        if (!start_backend_call(r, lcf, ctx)) {
            if (ctx->call) {
                wa_pair::call_stop(&*ctx->call);
            }
            ngx_http_finalize_request(r, send_failure(r, {NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                          "Failed to generate pairing code"}));
            return;
        }
        // Until the backend answers: a client that goes away ends the request, and the
        // request pool's cleanup stops the call.
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;
        zone_backend_started(r, ctx);  // in a zone, the call goes on without its client
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "wa_pair: unexpected exception in body handler");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

// Turns the call's verdict and the backend's answer into the envelope's; logs every backend
// failure with the backend's name, the failure and the masked phone (never a header value).
wa_pair::PairCode backend_result(RequestCtx *ctx, wa_pair_loc_conf_t *lcf) {
    const wa_pair::Call &call = *ctx->call;
    ngx_log_t *log = ctx->r->connection->log;
    const char *protocol = wa_pair::protocol_name(protocol_of(lcf)).data();

    if (call.failure) {
        const wa_pair::TransportFailure kind = *call.failure;
        wa_pair::PairCode pc = wa_pair::map_transport_failure(kind);
        const std::string masked = wa_pair::mask_phone(ctx->phone);
        const long os_errno = call.os_errno;
        if (kind == wa_pair::TransportFailure::unreachable && os_errno != 0) {
            // nginx's own form: connect() to ... failed (2: No such file or directory)
            u_char text[NGX_MAX_ERROR_STR];
            u_char *end = ngx_strerror(static_cast<ngx_err_t>(os_errno), text, sizeof(text));
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wa_pair: connect() to %s pairing backend \"%s\" failed (%l: %*s) (phone %s)",
                          protocol, ctx->backend_name, os_errno,
                          static_cast<size_t>(end - text), text, masked.c_str());
        } else if (kind == wa_pair::TransportFailure::unreachable) {
            // no errno (a unix: socket whose listen queue is full)
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wa_pair: connect() to %s pairing backend \"%s\" failed (%s) (phone %s)",
                          protocol, ctx->backend_name, call.error.c_str(), masked.c_str());
        } else if (kind == wa_pair::TransportFailure::too_large) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wa_pair: %s pairing backend \"%s\" failed: its answer is larger than "
                          "wa_pair_backend_buffer_size (%uz bytes) (phone %s)",
                          protocol, ctx->backend_name, lcf->backend_buffer_size, masked.c_str());
        } else {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "wa_pair: %s pairing backend \"%s\" failed: %s (phone %s)", protocol,
                          ctx->backend_name, call.error.c_str(), masked.c_str());
        }
        return pc;
    }

    const long status = call.answer.status();
    wa_pair::PairCode pc = wa_pair::map_answer(protocol_of(lcf), status, call.answer.body(),
                                               call.answer.retry_after(),
                                               static_cast<long>(lcf->code_timeout));
    if (pc.failure) {
        // A failure of the backend is an error; an answer about the request (already paired,
        // refused, rate limited, the origin refusing the client's token) is information.
        const ngx_uint_t level = pc.failure.code >= 500 ? NGX_LOG_ERR : NGX_LOG_INFO;
        const std::string masked = wa_pair::mask_phone(ctx->phone);
        ngx_log_error(level, log, 0,
                      "wa_pair: %s pairing backend \"%s\" answered %l: %*s (phone %s)", protocol,
                      ctx->backend_name, status, pc.reason.size(), pc.reason.data(),
                      masked.c_str());
    }
    return pc;
}

void backend_done(wa_pair::Call *call) noexcept {
    auto *ctx = static_cast<RequestCtx *>(call->data);
    ngx_http_request_t *r = ctx->r;
    ngx_connection_t *c = r->connection;
    ngx_int_t rc;
    ctx->backend_done = true;
    ctx->backend_end = ngx_current_msec;
    try {
        wa_pair::PairCode pc = backend_result(ctx, loc_conf(r));
        zone_after_backend(ctx, pc);
        r->read_event_handler = ngx_http_block_reading;
        ctx->outcome = pc.outcome;
        if (!pc.failure) {
            rc = send_envelope(r, NGX_HTTP_OK, wa_pair::success_envelope(pc.code, pc.timeout));
        } else if (pc.has_retry_after && !add_header(r, "Retry-After", std::to_string(pc.retry_after))) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        } else if (pc.invalid_token && !add_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"")) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        } else {
            rc = send_failure(r, pc.failure);
        }
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "wa_pair: unexpected exception after the backend call");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

}  // namespace

ngx_int_t handler(ngx_http_request_t *r) noexcept {
    return content_handler(r);
}

}  // namespace ngx_wa_pair
