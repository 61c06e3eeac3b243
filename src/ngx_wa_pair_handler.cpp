// The content handler: method, authentication, body, the backend call and its answer.

#include <string>

#include "ngx_wa_pair_conf.hpp"
#include "backend.hpp"
#include "auth.hpp"
#include "login_body.hpp"
#include "phone.hpp"

namespace ngx_wa_pair {

namespace {

void body_handler(ngx_http_request_t *r) noexcept;
void backend_done(wa_pair::Transfer *t, CURLcode result) noexcept;

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
    wa_pair::AuthResult auth = wa_pair::authenticate(authorization, *lcf->auth_config, ngx_time());
    if (!auth.failure) {
        ctx->device_id = std::move(auth.device_id);
        ctx->auth_method = wa_pair::auth_method_name(auth.method);
        ctx->api_key_id = std::move(auth.api_key_id);
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

bool collect_body(ngx_http_request_t *r, std::string &out) {
    if (r->request_body == nullptr) {
        return true;
    }
    if (r->request_body->temp_file != nullptr) {
        return false;
    }
    for (ngx_chain_t *cl = r->request_body->bufs; cl != nullptr; cl = cl->next) {
        if (cl->buf->in_file) {
            return false;
        }
        out.append(reinterpret_cast<const char *>(cl->buf->pos),
                   static_cast<size_t>(cl->buf->last - cl->buf->pos));
    }
    return true;
}

bool append_header(wa_pair::Transfer &t, std::string_view name, std::string_view value) {
    std::string line;
    line.reserve(name.size() + 2 + value.size());
    line.append(name).append(": ").append(value);
    curl_slist *l = curl_slist_append(t.headers, line.c_str());
    if (l == nullptr) {
        return false;
    }
    t.headers = l;
    return true;
}

bool start_backend_call(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    wa_pair::Transfer &t = ctx->transfer;
    if (!wa_pair::transfer_prepare(&t, r->connection->log)) {
        return false;
    }
    t.done = backend_done;
    t.data = ctx;
    t.request_body = wa_pair::backend_request_body(ctx->device_id, ctx->phone);

    std::string_view id = request_id(r);
    if (!append_header(t, "Content-Type", "application/json") ||
        !append_header(t, "Accept", "application/json") ||
        !append_header(t, "Expect", "") ||
        !append_header(t, "X-Device-Id", ctx->device_id) ||
        (!ctx->api_key_id.empty() && !append_header(t, "X-Api-Key-Id", ctx->api_key_id)) ||
        (!ctx->token_version.empty() && !append_header(t, "X-Token-Version", ctx->token_version)) ||
        (!id.empty() && !append_header(t, "X-Request-ID", id))) {
        return false;
    }

    CURL *e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, reinterpret_cast<const char *>(lcf->backend_url.data));
    if (lcf->backend_unix.len > 0) {
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, reinterpret_cast<const char *>(lcf->backend_unix.data));
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.request_body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(t.request_body.size()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(lcf->connect_timeout));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(lcf->backend_timeout));
    return wa_pair::transfer_start(&t, r->connection->log);
}

void body_handler(ngx_http_request_t *r) noexcept {
    try {
        RequestCtx *ctx = get_ctx(r);
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        ctx->reading_body = false;

        std::string body;
        if (!collect_body(r, body)) {
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
            wa_pair::transfer_stop(&ctx->transfer);
            ngx_http_finalize_request(r, send_failure(r, {NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                          "Failed to generate pairing code"}));
            return;
        }
        // Until the backend answers: a client that goes away ends the request, and the
        // request pool's cleanup removes the transfer.
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_request_empty_handler;
        zone_backend_started(r, ctx);  // in a zone, the call goes on without its client
    } catch (...) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "wa_pair: unexpected exception in body handler");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

ngx_str_t *backend_name(wa_pair_loc_conf_t *lcf) {
    return lcf->backend_unix.len ? &lcf->backend_unix : &lcf->backend_url;
}

// Turns libcurl's verdict into the envelope's; logs every backend failure (phone masked).
wa_pair::PairCode backend_result(RequestCtx *ctx, wa_pair_loc_conf_t *lcf, CURLcode result) {
    wa_pair::Transfer &t = ctx->transfer;
    ngx_log_t *log = ctx->r->connection->log;
    std::string masked = wa_pair::mask_phone(ctx->phone);

    if (result != CURLE_OK) {
        wa_pair::TransportFailure kind = wa_pair::TransportFailure::bad_answer;
        if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST) {
            kind = wa_pair::TransportFailure::unreachable;
        } else if (result == CURLE_OPERATION_TIMEDOUT) {
            kind = wa_pair::TransportFailure::timeout;
        } else if (result == CURLE_FILESIZE_EXCEEDED || (result == CURLE_WRITE_ERROR && t.too_large)) {
            kind = wa_pair::TransportFailure::too_large;
        }
        long os_errno = 0;
        curl_easy_getinfo(t.easy, CURLINFO_OS_ERRNO, &os_errno);
        if (kind == wa_pair::TransportFailure::unreachable && os_errno != 0) {
            // nginx's own form: connect() to ... failed (2: No such file or directory)
            ngx_log_error(NGX_LOG_ERR, log, static_cast<ngx_err_t>(os_errno),
                          "wa_pair: connect() to pairing backend %s\"%V\" failed (phone %s)",
                          lcf->backend_unix.len ? "unix:" : "", backend_name(lcf), masked.c_str());
        } else {
            const char *why = t.error[0] != '\0' ? t.error : curl_easy_strerror(result);
            ngx_log_error(NGX_LOG_ERR, log, 0, "wa_pair: pairing backend %s\"%V\" failed: %s (phone %s)",
                          lcf->backend_unix.len ? "unix:" : "", backend_name(lcf), why, masked.c_str());
        }
        return wa_pair::map_transport_failure(kind);
    }

    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    std::string_view retry_after;
    curl_header *h = nullptr;
    if (curl_easy_header(t.easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h != nullptr) {
        retry_after = h->value;
    }
    wa_pair::PairCode pc = wa_pair::map_backend_answer(status, t.response_body, retry_after,
                                                       static_cast<long>(lcf->code_timeout));
    if (pc.failure && (pc.failure.code >= 500 || status >= 500)) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "wa_pair: pairing backend %s\"%V\" answered %l: %s (phone %s)",
                      lcf->backend_unix.len ? "unix:" : "", backend_name(lcf), status, pc.failure.error.c_str(), masked.c_str());
    }
    return pc;
}

void backend_done(wa_pair::Transfer *t, CURLcode result) noexcept {
    auto *ctx = static_cast<RequestCtx *>(t->data);
    ngx_http_request_t *r = ctx->r;
    ngx_connection_t *c = r->connection;
    ngx_int_t rc;
    try {
        wa_pair::PairCode pc = backend_result(ctx, loc_conf(r), result);
        zone_after_backend(ctx, pc);
        wa_pair::transfer_stop(t);
        r->read_event_handler = ngx_http_block_reading;
        if (!pc.failure) {
            rc = send_envelope(r, NGX_HTTP_OK, wa_pair::success_envelope(pc.code, pc.timeout));
        } else if (pc.failure.code == NGX_HTTP_TOO_MANY_REQUESTS &&
                   !add_header(r, "Retry-After", std::to_string(pc.retry_after))) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        } else {
            rc = send_failure(r, pc.failure);
        }
    } catch (...) {
        wa_pair::transfer_stop(t);
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
