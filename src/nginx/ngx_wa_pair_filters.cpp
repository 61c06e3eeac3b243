// nginx's own error pages (413 ...) in wa_pair locations, and in edge locations
// (wa_pair_authenticate), become envelopes; the body size limit is enforced while the body is
// read.

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

namespace {

ngx_http_output_header_filter_pt next_header_filter;
ngx_http_output_body_filter_pt next_body_filter;
ngx_http_request_body_filter_pt next_request_body_filter;

std::string_view nginx_error_text(ngx_uint_t status) {
    switch (status) {
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "Request body is too large";
    case NGX_HTTP_REQUEST_TIME_OUT:
        return "Request body was not received in time";
    default:
        return wa_pair::status_message(static_cast<int>(status));
    }
}

// An edge (wa_pair_authenticate in a proxy_pass location): nginx's own error page for the host
// behind it, in the contract's terms. Answers that host sent pass through as they are.
const wa_pair::PairCode *edge_failure(ngx_http_request_t *r, ngx_uint_t status, wa_pair::PairCode &out) {
    using wa_pair::TransportFailure;
    ngx_http_upstream_t *u = r->upstream;
    switch (status) {
    case NGX_HTTP_BAD_GATEWAY:
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        out = wa_pair::map_transport_failure(u != nullptr && u->request_sent && status == NGX_HTTP_BAD_GATEWAY
                                                 ? TransportFailure::no_answer
                                                 : TransportFailure::unreachable);
        return &out;
    case NGX_HTTP_GATEWAY_TIME_OUT:
        out = wa_pair::map_transport_failure(TransportFailure::timeout);
        return &out;
    default:
        return nullptr;
    }
}

ngx_int_t wa_pair_header_filter(ngx_http_request_t *r) noexcept {
    wa_pair_loc_conf_t *lcf = loc_conf(r);
    ngx_uint_t status = r->headers_out.status;
    RequestCtx *ctx = get_ctx(r);
    // An edge location's own error pages only (err_status): what its host answered is its own.
    const bool edge = !lcf->enable && lcf->authenticate && r->err_status >= NGX_HTTP_BAD_REQUEST;
    if ((!lcf->enable && !edge) || r != r->main || status < NGX_HTTP_BAD_REQUEST || (ctx && ctx->responded)) {
        return next_header_filter(r);
    }
    try {
        if (ctx == nullptr && (ctx = create_ctx(r)) == nullptr) {
            return NGX_ERROR;
        }
        ctx->responded = true;
        wa_pair::PairCode edge_code;
        std::optional<std::string> page;
        const wa_pair::PairCode *failure = ctx->call && ctx->call->failure ? &*ctx->call->failure
                                           : edge                          ? edge_failure(r, status, edge_code)
                                                                           : nullptr;
        if (failure != nullptr) {
            // nginx's upstream ended the backend call with its own status (502 for a refused
            // connection, say): the answer is the one the call's failure says.
            status = static_cast<ngx_uint_t>(failure->failure.code);
            if (r->err_status) {
                r->err_status = status;  // $status
            }
            if (failure->has_retry_after && !add_header(r, "Retry-After", std::to_string(failure->retry_after))) {
                return NGX_ERROR;
            }
            page = wa_pair::error_envelope(static_cast<int>(status), failure->failure.error);
        } else {
            if (ctx->outcome == wa_pair::Outcome::none) {
                ctx->outcome = wa_pair::outcome_for_status(static_cast<int>(status));
            }
            page = wa_pair::error_envelope(static_cast<int>(status), nginx_error_text(status));
        }
        ctx->replace_body = true;
        if (!page) {
            return NGX_ERROR;
        }
        ctx->error_page = std::move(*page);
        if (!set_envelope_headers(r, status, ctx->error_page.size())) {
            return NGX_ERROR;
        }
    } catch (...) {
        log_caught(r->connection->log, "making an error page an envelope");
        return NGX_ERROR;
    }
    return next_header_filter(r);
}

ngx_int_t wa_pair_body_filter(ngx_http_request_t *r, ngx_chain_t *in) noexcept {
    RequestCtx *ctx = get_ctx(r);
    if (in == nullptr || ctx == nullptr || !ctx->replace_body) {
        return next_body_filter(r, in);
    }
    for (ngx_chain_t *cl = in; cl != nullptr; cl = cl->next) {  // nginx's HTML: consumed, dropped
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }
    if (ctx->error_page_sent) {
        return NGX_OK;
    }
    ctx->error_page_sent = true;
    ngx_buf_t *b = make_buf(r, ctx->error_page);
    if (b == nullptr) {
        return NGX_ERROR;
    }
    ngx_chain_t out = {b, nullptr};
    return next_body_filter(r, &out);
}

// Counts the body while it is read, so that an oversized chunked body is refused before
// nginx would write it to a temporary file.
ngx_int_t wa_pair_request_body_filter(ngx_http_request_t *r, ngx_chain_t *in) noexcept {
    RequestCtx *ctx = get_ctx(r);
    if (ctx != nullptr && ctx->reading_body) {
        for (ngx_chain_t *cl = in; cl != nullptr; cl = cl->next) {
            ctx->body_bytes += ngx_buf_size(cl->buf);
        }
        if (ctx->body_bytes > ctx->body_limit) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    return next_request_body_filter(r, in);
}

}  // namespace

void install_filters() noexcept {
    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = wa_pair_header_filter;
    next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = wa_pair_body_filter;
    next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = wa_pair_request_body_filter;
}

}  // namespace ngx_wa_pair
