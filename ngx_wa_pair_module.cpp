// ngx_wa_pair: POST /devices/me/login-code at the edge. The nginx glue: directives, the
// content handler, the body handler, the backend call's completion, and a filter that gives
// nginx's own error pages (413 ...) the JSON envelope. Every decision is made by the core
// in src/; this file only forwards it.

#include <cctype>
#include <new>
#include <string>
#include <string_view>

#include "ngx_wa_pair_nginx.hpp"
#include "ngx_wa_pair_curl.hpp"
#include "backend.hpp"
#include "envelope.hpp"
#include "jwt.hpp"
#include "login_body.hpp"
#include "phone.hpp"

namespace {

// ---------------------------------------------------------------- configuration structs

struct wa_pair_main_conf_t {
    ngx_int_t request_id_index;
};

struct wa_pair_loc_conf_t {
    ngx_flag_t enable;            // `wa_pair;` in this very location (not inherited)
    ngx_http_core_loc_conf_t *core;  // that location's core conf (client_max_body_size)
    off_t max_body_size;          // client_max_body_size, enforced after authentication
    ngx_str_t backend_url;        // NUL-terminated, for libcurl; data == NULL: unset
    ngx_str_t backend_unix;       // NUL-terminated socket path, empty for TCP
    ngx_msec_t connect_timeout;
    ngx_msec_t backend_timeout;
    time_t code_timeout;
    ngx_str_t jwt_secret;         // raw bytes; data == NULL: unset
    ngx_str_t jwt_device_claim;
    time_t jwt_leeway;
};

// Per request. C++ members: created with new, deleted by a request pool cleanup.
struct RequestCtx {
    ngx_http_request_t *r = nullptr;
    bool responded = false;       // our envelope was sent (the error filter leaves it alone)
    bool reading_body = false;    // the body filter counts bytes while set
    off_t body_limit = 0;
    off_t body_bytes = 0;
    std::string device_id;
    std::string phone;            // digits; logged only masked
    bool replace_body = false;    // an nginx error page is being replaced by error_page
    bool error_page_sent = false;
    std::string error_page;
    wa_pair::Transfer transfer;
};

constexpr std::string_view kJson = "application/json";

// ---------------------------------------------------------------- prototypes

ngx_int_t wa_pair_handler(ngx_http_request_t *r) noexcept;
void wa_pair_body_handler(ngx_http_request_t *r) noexcept;
void wa_pair_backend_done(wa_pair::Transfer *t, CURLcode result) noexcept;

char *wa_pair_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *wa_pair_backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *wa_pair_secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *wa_pair_check_positive_msec(ngx_conf_t *cf, void *post, void *data) noexcept;
char *wa_pair_check_code_timeout(ngx_conf_t *cf, void *post, void *data) noexcept;
char *wa_pair_check_leeway(ngx_conf_t *cf, void *post, void *data) noexcept;
char *wa_pair_check_claim(ngx_conf_t *cf, void *post, void *data) noexcept;

void *wa_pair_create_main_conf(ngx_conf_t *cf) noexcept;
void *wa_pair_create_loc_conf(ngx_conf_t *cf) noexcept;
char *wa_pair_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept;
ngx_int_t wa_pair_postconfiguration(ngx_conf_t *cf) noexcept;
ngx_int_t wa_pair_init_process(ngx_cycle_t *cycle) noexcept;
void wa_pair_exit_process(ngx_cycle_t *cycle) noexcept;

// ---------------------------------------------------------------- directives

ngx_conf_post_t wa_pair_positive_msec_post = {wa_pair_check_positive_msec};
ngx_conf_post_t wa_pair_code_timeout_post = {wa_pair_check_code_timeout};
ngx_conf_post_t wa_pair_leeway_post = {wa_pair_check_leeway};
ngx_conf_post_t wa_pair_claim_post = {wa_pair_check_claim};

constexpr ngx_uint_t kAnyLevel = NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF;

ngx_command_t wa_pair_commands[] = {
    {ngx_string("wa_pair"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, wa_pair_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_backend"), kAnyLevel | NGX_CONF_TAKE1, wa_pair_backend_directive,
     NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_connect_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, connect_timeout),
     &wa_pair_positive_msec_post},

    {ngx_string("wa_pair_backend_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_msec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, backend_timeout),
     &wa_pair_positive_msec_post},

    {ngx_string("wa_pair_code_timeout"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, code_timeout),
     &wa_pair_code_timeout_post},

    {ngx_string("wa_pair_jwt_secret_file"), kAnyLevel | NGX_CONF_TAKE1,
     wa_pair_secret_file_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("wa_pair_jwt_device_claim"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_str_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, jwt_device_claim),
     &wa_pair_claim_post},

    {ngx_string("wa_pair_jwt_leeway"), kAnyLevel | NGX_CONF_TAKE1, ngx_conf_set_sec_slot,
     NGX_HTTP_LOC_CONF_OFFSET, offsetof(wa_pair_loc_conf_t, jwt_leeway), &wa_pair_leeway_post},

    ngx_null_command};

ngx_http_module_t wa_pair_module_ctx = {
    nullptr,                     // preconfiguration
    wa_pair_postconfiguration,   // postconfiguration
    wa_pair_create_main_conf,    // create main configuration
    nullptr,                     // init main configuration
    nullptr,                     // create server configuration
    nullptr,                     // merge server configuration
    wa_pair_create_loc_conf,     // create location configuration
    wa_pair_merge_loc_conf       // merge location configuration
};

ngx_http_output_header_filter_pt next_header_filter;
ngx_http_output_body_filter_pt next_body_filter;
ngx_http_request_body_filter_pt next_request_body_filter;

}  // namespace

extern "C" {
ngx_module_t ngx_http_wa_pair_module = {
    NGX_MODULE_V1,
    &wa_pair_module_ctx,    // module context
    wa_pair_commands,       // module directives
    NGX_HTTP_MODULE,        // module type
    nullptr,                // init master
    nullptr,                // init module
    wa_pair_init_process,   // init process
    nullptr,                // init thread
    nullptr,                // exit thread
    wa_pair_exit_process,   // exit process
    nullptr,                // exit master
    NGX_MODULE_V1_PADDING};
}

namespace {

// ---------------------------------------------------------------- small helpers

std::string_view view(const ngx_str_t &s) {
    return {reinterpret_cast<const char *>(s.data), s.len};
}

wa_pair_loc_conf_t *loc_conf(ngx_http_request_t *r) {
    return static_cast<wa_pair_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_module));
}

RequestCtx *get_ctx(ngx_http_request_t *r) {
    return static_cast<RequestCtx *>(ngx_http_get_module_ctx(r, ngx_http_wa_pair_module));
}

void delete_ctx(void *data) noexcept {
    delete static_cast<RequestCtx *>(data);
}

RequestCtx *create_ctx(ngx_http_request_t *r) {
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == nullptr) {
        return nullptr;
    }
    auto *ctx = new (std::nothrow) RequestCtx();
    if (ctx == nullptr) {
        return nullptr;
    }
    ctx->r = r;
    cln->handler = delete_ctx;
    cln->data = ctx;
    ngx_http_set_ctx(r, ctx, ngx_http_wa_pair_module);
    return ctx;
}

bool add_header(ngx_http_request_t *r, std::string_view name, std::string_view value) {
    ngx_table_elt_t *h = static_cast<ngx_table_elt_t *>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return false;
    }
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

// The incoming X-Request-ID when it is sane (1..128 of [A-Za-z0-9._:-]), else $request_id.
std::string_view request_id(ngx_http_request_t *r) {
    for (ngx_list_part_t *part = &r->headers_in.headers.part; part != nullptr; part = part->next) {
        auto *h = static_cast<ngx_table_elt_t *>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; i++) {
            if (h[i].key.len != 12 || ngx_strncasecmp(h[i].key.data, (u_char *) "X-Request-ID", 12) != 0) {
                continue;
            }
            std::string_view v = view(h[i].value);
            bool sane = !v.empty() && v.size() <= 128;
            for (char ch : v) {
                sane = sane && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ||
                                ch == '_' || ch == ':' || ch == '-');
            }
            if (sane) {
                return v;
            }
        }
    }
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_get_module_main_conf(r, ngx_http_wa_pair_module));
    ngx_http_variable_value_t *vv = ngx_http_get_indexed_variable(r, static_cast<ngx_uint_t>(mcf->request_id_index));
    if (vv == nullptr || vv->not_found) {
        return {};
    }
    return {reinterpret_cast<const char *>(vv->data), vv->len};
}

// Headers common to every envelope, ours or the one made from an nginx error page.
bool set_envelope_headers(ngx_http_request_t *r, ngx_uint_t status, size_t length) {
    r->headers_out.status = status;
    r->headers_out.content_type.len = kJson.size();
    r->headers_out.content_type.data = (u_char *) kJson.data();
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
    return add_header(r, "Cache-Control", "no-store") &&
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
    if (body.empty()) {  // the core could not allocate it
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (RequestCtx *ctx = get_ctx(r)) {
        ctx->responded = true;
    }
    if (!set_envelope_headers(r, static_cast<ngx_uint_t>(code), body.size())) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_buf_t *b = make_buf(r, body);
    if (b == nullptr) {
        return NGX_ERROR;
    }
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

ngx_int_t send_failure(ngx_http_request_t *r, const wa_pair::Failure &f) {
    return send_envelope(r, f.code, wa_pair::error_envelope(f.code, f.error));
}

// Answers before the body is read: the body is discarded first so keep-alive stays safe;
// a connection that announced a body over the limit is not kept alive.
ngx_int_t reject(ngx_http_request_t *r, const wa_pair::Failure &f) {
    RequestCtx *ctx = get_ctx(r);
    if (ctx != nullptr && r->headers_in.content_length_n > ctx->body_limit) {
        r->keepalive = 0;
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    return send_failure(r, f);
}

// ---------------------------------------------------------------- content handler

// NGX_DECLINED: authenticated, go on; anything else: the 401 was sent, finalize with it.
ngx_int_t authenticate(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    std::string_view authorization;
    if (r->headers_in.authorization != nullptr) {
        authorization = view(r->headers_in.authorization->value);
    }
    wa_pair::JwtConfig jwt;
    jwt.hmac_secret = view(lcf->jwt_secret);
    jwt.device_claim = view(lcf->jwt_device_claim);
    jwt.leeway_seconds = static_cast<long>(lcf->jwt_leeway);

    wa_pair::AuthResult auth = wa_pair::authenticate(authorization, jwt, ngx_time());
    if (!auth.failure) {
        ctx->device_id = std::move(auth.device_id);
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

ngx_int_t wa_pair_handler(ngx_http_request_t *r) noexcept {
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
        rc = ngx_http_read_client_request_body(r, wa_pair_body_handler);
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
    t.done = wa_pair_backend_done;
    t.data = ctx;
    t.request_body = wa_pair::backend_request_body(ctx->device_id, ctx->phone);

    std::string_view id = request_id(r);
    if (!append_header(t, "Content-Type", "application/json") ||
        !append_header(t, "Accept", "application/json") ||
        !append_header(t, "Expect", "") ||
        !append_header(t, "X-Device-Id", ctx->device_id) ||
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

void wa_pair_body_handler(ngx_http_request_t *r) noexcept {
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

void wa_pair_backend_done(wa_pair::Transfer *t, CURLcode result) noexcept {
    auto *ctx = static_cast<RequestCtx *>(t->data);
    ngx_http_request_t *r = ctx->r;
    ngx_connection_t *c = r->connection;
    ngx_int_t rc;
    try {
        wa_pair::PairCode pc = backend_result(ctx, loc_conf(r), result);
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

// ---------------------------------------------------------------- nginx's own errors as envelopes

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

ngx_int_t wa_pair_header_filter(ngx_http_request_t *r) noexcept {
    wa_pair_loc_conf_t *lcf = loc_conf(r);
    ngx_uint_t status = r->headers_out.status;
    RequestCtx *ctx = get_ctx(r);
    if (!lcf->enable || r != r->main || status < NGX_HTTP_BAD_REQUEST || (ctx && ctx->responded)) {
        return next_header_filter(r);
    }
    try {
        if (ctx == nullptr && (ctx = create_ctx(r)) == nullptr) {
            return NGX_ERROR;
        }
        ctx->responded = true;
        ctx->error_page = wa_pair::error_envelope(static_cast<int>(status), nginx_error_text(status));
        ctx->replace_body = true;
        if (!set_envelope_headers(r, status, ctx->error_page.size())) {
            return NGX_ERROR;
        }
    } catch (...) {
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

// ---------------------------------------------------------------- directives

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

bool copy_cstr(ngx_conf_t *cf, const std::string &from, ngx_str_t &to) {
    to.len = from.size();
    to.data = static_cast<u_char *>(ngx_pnalloc(cf->pool, from.size() + 1));
    if (to.data == nullptr) {
        return false;
    }
    ngx_memcpy(to.data, from.c_str(), from.size() + 1);
    return true;
}

char *wa_pair_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->enable) {
        return const_cast<char *>("is duplicate");
    }
    lcf->enable = 1;
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = wa_pair_handler;
    lcf->core = clcf;
    (void) cmd;
    return NGX_CONF_OK;
}

char *wa_pair_backend_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->backend_url.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t *value = args(cf);
    try {
        wa_pair::BackendUrl url = wa_pair::parse_backend_url(view(value[1]));
        if (!url.error.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\": %s", &value[1],
                               &cmd->name, url.error.c_str());
            return WA_PAIR_CONF_ERROR;
        }
        if (!copy_cstr(cf, url.url, lcf->backend_url) || !copy_cstr(cf, url.unix_socket, lcf->backend_unix)) {
            return WA_PAIR_CONF_ERROR;
        }
    } catch (...) {
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

void wipe_secret(void *data) noexcept {
    auto *s = static_cast<ngx_str_t *>(data);
    ngx_explicit_memzero(s->data, s->len);
}

// Reads a secret at configuration time; only its path ever appears in a message.
char *wa_pair_secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->jwt_secret.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }
    ngx_str_t path = args(cf)[1];
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return WA_PAIR_CONF_ERROR;
    }
    constexpr off_t kMaxSecret = 65536;
    ngx_fd_t fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "\"%V\" cannot open \"%V\"", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    u_char *buf = static_cast<u_char *>(ngx_pnalloc(cf->pool, kMaxSecret + 1));
    ssize_t n = buf ? ngx_read_fd(fd, buf, kMaxSecret + 1) : -1;
    ngx_err_t err = ngx_errno;
    ngx_close_file(fd);
    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, err, "\"%V\" cannot read \"%V\"", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    if (n > kMaxSecret) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\" is too large", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    size_t len = static_cast<size_t>(n);
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r') {
            len--;
        }
    }
    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" file \"%V\" is empty", &cmd->name, &path);
        return WA_PAIR_CONF_ERROR;
    }
    lcf->jwt_secret.data = buf;
    lcf->jwt_secret.len = len;
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    cln->handler = wipe_secret;
    cln->data = &lcf->jwt_secret;
    return NGX_CONF_OK;
}

char *wa_pair_check_positive_msec(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    return *static_cast<ngx_msec_t *>(data) == 0 ? const_cast<char *>("must be greater than 0") : NGX_CONF_OK;
}

char *wa_pair_check_code_timeout(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    time_t v = *static_cast<time_t *>(data);
    return (v < 1 || v > 86400) ? const_cast<char *>("must be between 1s and 1d") : NGX_CONF_OK;
}

char *wa_pair_check_leeway(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    return *static_cast<time_t *>(data) > 86400 ? const_cast<char *>("must not exceed 1d") : NGX_CONF_OK;
}

char *wa_pair_check_claim(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void) cf;
    (void) post;
    auto *s = static_cast<ngx_str_t *>(data);
    for (size_t i = 0; i < s->len; i++) {
        if (s->data[i] <= 0x20 || s->data[i] >= 0x7f) {
            return const_cast<char *>("must be a claim name of printable characters");
        }
    }
    return s->len == 0 ? const_cast<char *>("must not be empty") : NGX_CONF_OK;
}

// ---------------------------------------------------------------- configuration lifecycle

void *wa_pair_create_main_conf(ngx_conf_t *cf) noexcept {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_pcalloc(cf->pool, sizeof(wa_pair_main_conf_t)));
    if (mcf == nullptr) {
        return nullptr;
    }
    mcf->request_id_index = NGX_ERROR;
    return mcf;
}

void *wa_pair_create_loc_conf(ngx_conf_t *cf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(ngx_pcalloc(cf->pool, sizeof(wa_pair_loc_conf_t)));
    if (lcf == nullptr) {
        return nullptr;
    }
    // pcalloc: enable = 0, backend_url/jwt_secret/jwt_device_claim unset (data == NULL)
    lcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    lcf->backend_timeout = NGX_CONF_UNSET_MSEC;
    lcf->code_timeout = NGX_CONF_UNSET;
    lcf->jwt_leeway = NGX_CONF_UNSET;
    return lcf;
}

char *wa_pair_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept {
    auto *prev = static_cast<wa_pair_loc_conf_t *>(parent);
    auto *conf = static_cast<wa_pair_loc_conf_t *>(child);

    if (conf->backend_url.data == nullptr) {
        conf->backend_url = prev->backend_url;
        conf->backend_unix = prev->backend_unix;
    }
    if (conf->jwt_secret.data == nullptr) {
        conf->jwt_secret = prev->jwt_secret;
    }
    ngx_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout, 5000);
    ngx_conf_merge_msec_value(conf->backend_timeout, prev->backend_timeout, 60000);
    ngx_conf_merge_sec_value(conf->code_timeout, prev->code_timeout, 120);
    ngx_conf_merge_str_value(conf->jwt_device_claim, prev->jwt_device_claim, "device_id");
    ngx_conf_merge_sec_value(conf->jwt_leeway, prev->jwt_leeway, 0);

    if (conf->enable) {
        // nginx checks Content-Length against client_max_body_size before any handler; a
        // wa_pair location authenticates first (DESIGN.md section 2), so the module takes the
        // limit over and enforces it itself, after authentication (the core's merge ran first).
        conf->max_body_size = conf->core->client_max_body_size;
        conf->core->client_max_body_size = 0;
    }
    if (conf->enable && conf->backend_url.data == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair\" requires \"wa_pair_backend\"");
        return WA_PAIR_CONF_ERROR;
    }
    if (conf->enable && conf->jwt_secret.data == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wa_pair\" requires a credential source: \"wa_pair_jwt_secret_file\"");
        return WA_PAIR_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

ngx_int_t wa_pair_postconfiguration(ngx_conf_t *cf) noexcept {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_module));
    ngx_str_t name = ngx_string("request_id");
    mcf->request_id_index = ngx_http_get_variable_index(cf, &name);
    if (mcf->request_id_index == NGX_ERROR) {
        return NGX_ERROR;
    }

    next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = wa_pair_header_filter;
    next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = wa_pair_body_filter;
    next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = wa_pair_request_body_filter;
    return NGX_OK;
}

ngx_int_t wa_pair_init_process(ngx_cycle_t *cycle) noexcept {
    return wa_pair::curl_worker_init(cycle);
}

void wa_pair_exit_process(ngx_cycle_t *cycle) noexcept {
    (void) cycle;
    wa_pair::curl_worker_exit();
}

}  // namespace
