// The content handler: method, authentication, body, then the edge policy and the backend call.

#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "edge/login_body.hpp"
#include "edge/phone.hpp"

namespace ngx_wa_pair {

// ---------------------------------------------------------------- body

// Usually the body came with the head: its only buffer is the view, nothing is copied.
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
        storage.append(reinterpret_cast<const char *>(cl->buf->pos), static_cast<size_t>(cl->buf->last - cl->buf->pos));
    }
    body = storage;
    return true;
}

namespace {

void body_handler(ngx_http_request_t *r) noexcept;

// ---------------------------------------------------------------- content handler

ngx_int_t content_handler(ngx_http_request_t *r) noexcept {
    try {
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        RequestCtx *ctx = request_ctx(r);
        if (ctx == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        // Every answer of a wa_pair location is an envelope: an error_page (a server's
        // "error_page 502 /50x.html", say) never takes one of nginx's error pages away from
        // the error filter.
        r->error_page = 1;
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

        if (ctx->auth_method.empty()) {  // not authenticated by the access phase already
            ngx_int_t rc = authenticate(r, lcf, ctx);
            if (rc != NGX_DECLINED) {
                return rc;
            }
        }
        ngx_int_t rc;

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
        log_caught(r->connection->log, "handler");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}

void body_handler(ngx_http_request_t *r) noexcept {
    try {
        RequestCtx *ctx = get_ctx(r);
        wa_pair_loc_conf_t *lcf = loc_conf(r);
        ctx->reading_body = false;

        std::string storage;
        std::string_view body;
        if (!collect_body(r, storage, body)) {
            ngx_http_finalize_request(
                r, send_failure(r, {NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "Request body is too large"}));
            return;
        }

        std::string_view content_type;
        if (r->headers_in.content_type != nullptr) {
            content_type = view(r->headers_in.content_type->value);
        }
        wa_pair::LoginRequest req = wa_pair::parse_login_body(wa_pair::classify_content_type(content_type), body);
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
        // nginx's upstream finalizes the request from here on; outside a zone, a client that
        // goes away cancels the call (ignore_client_abort in a zone: ngx_wa_pair_module.cpp).
        if (!backend_start(r, lcf, ctx)) {
            ngx_http_finalize_request(
                r, send_failure(r, {NGX_HTTP_INTERNAL_SERVER_ERROR, std::string(wa_pair::kInternalError)}));
        }
    } catch (...) {
        log_caught(r->connection->log, "body handler");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }
}

}  // namespace

ngx_int_t handler(ngx_http_request_t *r) noexcept {
    return content_handler(r);
}

}  // namespace ngx_wa_pair
