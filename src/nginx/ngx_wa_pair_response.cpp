// Request context, response headers and the envelope on the wire.

#include <new>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

namespace {

constexpr std::string_view kJson = "application/json";

static_assert(alignof(RequestCtx) <= NGX_ALIGNMENT, "ngx_palloc aligns to NGX_ALIGNMENT");

void destroy_ctx(void *data) noexcept {
    static_cast<RequestCtx *>(data)->~RequestCtx();  // its memory goes with the pool
}

}  // namespace

std::string_view view(const ngx_str_t &s) {
    return {reinterpret_cast<const char *>(s.data), s.len};
}

wa_pair_loc_conf_t *loc_conf(ngx_http_request_t *r) {
    return static_cast<wa_pair_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_module));
}

RequestCtx *get_ctx(ngx_http_request_t *r) {
    return static_cast<RequestCtx *>(ngx_http_get_module_ctx(r, ngx_http_wa_pair_module));
}

RequestCtx *create_ctx(ngx_http_request_t *r) {
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == nullptr) {
        return nullptr;
    }
    void *memory = ngx_palloc(r->pool, sizeof(RequestCtx));  // no malloc/free per request
    if (memory == nullptr) {
        return nullptr;
    }
    auto *ctx = new (memory) RequestCtx();
    ctx->r = r;
    cln->handler = destroy_ctx;
    cln->data = ctx;
    ngx_http_set_ctx(r, ctx, ngx_http_wa_pair_module);
    return ctx;
}

RequestCtx *request_ctx(ngx_http_request_t *r) {
    RequestCtx *ctx = get_ctx(r);
    return ctx != nullptr ? ctx : create_ctx(r);
}

bool add_header(ngx_http_request_t *r, std::string_view name, std::string_view value) {
    ngx_table_elt_t *h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return false;
    }
    ngx_memzero(h, sizeof(ngx_table_elt_t));  // lowcase_key, and next where nginx links repeats
    auto *v = static_cast<u_char *>(ngx_pnalloc(r->pool, value.size()));
    if (v == nullptr && !value.empty()) {
        h->hash = 0;
        return false;
    }
    ngx_memcpy(v, value.data(), value.size());
    h->hash = 1;
    h->key.len = name.size();
    h->key.data = reinterpret_cast<u_char *>(const_cast<char *>(name.data()));
    h->value.len = value.size();
    h->value.data = v;
    return true;
}

// Headers common to every envelope, ours or the one made from an nginx error page.
bool set_envelope_headers(ngx_http_request_t *r, ngx_uint_t status, size_t length) {
    r->headers_out.status = status;
    r->headers_out.content_type.len = kJson.size();
    r->headers_out.content_type.data = (u_char *)kJson.data();
    r->headers_out.content_type_len = kJson.size();
    r->headers_out.content_type_lowcase = nullptr;
    r->headers_out.charset.len = 0;
    r->headers_out.content_length_n = static_cast<off_t>(length);
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = nullptr;
    }
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);
    std::string_view id = request_id(r);
    // no-store: a pairing code is a credential; nosniff: an engine's short error text is
    // JSON-escaped inside, and no browser may read it as anything but JSON.
    return add_header(r, "Cache-Control", "no-store") && add_header(r, "X-Content-Type-Options", "nosniff") &&
           (id.empty() || add_header(r, "X-Request-ID", id));
}

ngx_buf_t *make_buf(ngx_http_request_t *r, const std::string &body) {
    ngx_buf_t *b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) {
        return nullptr;
    }
    b->last = ngx_cpymem(b->pos, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    return b;
}

// Sends one envelope; the return value is for ngx_http_finalize_request.
ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::string &body) {
    if (RequestCtx *ctx = get_ctx(r)) {
        ctx->responded = true;
        if (ctx->outcome == wa_pair::Outcome::none) {  // the backend's answers set their own
            ctx->outcome = wa_pair::outcome_for_status(code);
        }
    }
    // The bytes are in the request's pool before anything else runs (send_failure's buffer
    // is reused by the next envelope).
    ngx_buf_t *b = make_buf(r, body);
    if (b == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!set_envelope_headers(r, static_cast<ngx_uint_t>(code), body.size())) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

ngx_int_t send_envelope(ngx_http_request_t *r, int code, const std::optional<std::string> &body) {
    if (!body) {  // the core could not allocate it
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_envelope(r, code, *body);
}

ngx_int_t send_failure(ngx_http_request_t *r, const wa_pair::Failure &f) {
    // The failures are a handful of fixed texts (and the backends' short ones): the worker
    // keeps the envelopes of the last few it built, and send_envelope copies the bytes into
    // the request's pool.
    struct Built {
        int code = 0;
        std::string error;
        std::string envelope;
    };
    static Built built[8];
    static size_t next = 0;
    for (const Built &b : built) {
        if (b.code == f.code && b.error == f.error && !b.envelope.empty()) {
            return send_envelope(r, f.code, b.envelope);
        }
    }
    Built &b = built[next];
    next = (next + 1) % (sizeof(built) / sizeof(built[0]));
    b.code = 0;
    b.envelope.clear();
    try {
        wa_pair::append_error_envelope(b.envelope, f.code, f.error);
        b.error = f.error;
        b.code = f.code;
    } catch (...) {
        log_caught(r->connection->log, "answering a refusal");
        b.envelope.clear();
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_envelope(r, f.code, b.envelope);
}

// Answers before the body is read: the body is discarded first so keep-alive stays safe;
// a connection that announced a body over the limit is not kept alive. A client that sent
// "Expect: 100-continue" is not invited to send a body nobody reads: no "100 Continue"
// before the answer, as nginx's own 413 does (expect_tested).
ngx_int_t reject(ngx_http_request_t *r, const wa_pair::Failure &f) {
    RequestCtx *ctx = get_ctx(r);
    if (ctx != nullptr && r->headers_in.content_length_n > ctx->body_limit) {
        r->keepalive = 0;
    }
    r->expect_tested = 1;
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    return send_failure(r, f);
}

}  // namespace ngx_wa_pair
