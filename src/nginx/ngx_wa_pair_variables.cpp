// The module's variables, all of them (docs/variables.md), for access logs and for the
// backend's URL and headers; each is read from the request's context:
//   $wa_pair_auth          how the request authenticated: jwt or api_key (not found before)
//   $wa_pair_outcome       how the request ended: ok, bad_request, unauthorized,
//                          backend_unavailable, backend_timeout, bad_backend_answer, ...
//   $wa_pair_backend_time  the backend call's duration in seconds with milliseconds, as
//                          $upstream_response_time; "-" when no call was made
//   $wa_pair_device_id     the authenticated device id, percent-encoded so that it is one safe
//                          segment of a URL (WAHA's {session}, Evolution's {instance})
//   $wa_pair_cache         what the zone did: miss, hit (a live code reused) or coalesced
//                          (another request's call waited for); not found outside a zone

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "backend/backend.hpp"

namespace ngx_wa_pair {

namespace {

ngx_int_t set_value(ngx_http_request_t *r, ngx_http_variable_value_t *v, std::string_view value) {
    auto *p = static_cast<u_char *>(ngx_pnalloc(r->pool, value.size() ? value.size() : 1));
    if (p == nullptr) {
        return NGX_ERROR;
    }
    ngx_memcpy(p, value.data(), value.size());
    v->len = value.size();
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;
    return NGX_OK;
}

ngx_int_t not_found(ngx_http_variable_value_t *v) {
    v->not_found = 1;
    return NGX_OK;
}

ngx_int_t outcome_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data) noexcept {
    (void)data;
    RequestCtx *ctx = get_ctx(r);
    wa_pair::Outcome outcome = ctx != nullptr ? ctx->outcome : wa_pair::Outcome::none;
    if (ctx != nullptr || loc_conf(r)->enable) {
        // Ended without an envelope: nginx's 408 for a body that stopped, 499 for a client
        // that went away.
        outcome = wa_pair::final_outcome(outcome, static_cast<int>(r->headers_out.status));
    }
    if (outcome == wa_pair::Outcome::none) {
        return not_found(v);
    }
    return set_value(r, v, wa_pair::outcome_name(outcome));
}

ngx_int_t backend_time_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data) noexcept {
    (void)data;
    RequestCtx *ctx = get_ctx(r);
    if (ctx == nullptr || !ctx->call) {
        return set_value(r, v, "-");
    }
    // A call still running (the client went away) counts until now.
    const BackendCall &call = *ctx->call;
    const ngx_msec_t end = call.done ? call.end : ngx_current_msec;
    const ngx_msec_int_t ms = static_cast<ngx_msec_int_t>(end - call.start);
    const ngx_msec_int_t positive = ms > 0 ? ms : 0;
    u_char buf[NGX_INT_T_LEN + 8];
    u_char *last =
        ngx_sprintf(buf, "%T.%03M", static_cast<time_t>(positive / 1000), static_cast<ngx_msec_t>(positive % 1000));
    return set_value(r, v, std::string_view(reinterpret_cast<char *>(buf), static_cast<size_t>(last - buf)));
}

ngx_int_t device_id_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data) noexcept {
    (void)data;
    RequestCtx *ctx = get_ctx(r);
    if (ctx == nullptr || ctx->device_id.empty()) {
        return not_found(v);
    }
    try {
        return set_value(r, v, wa_pair::url_escape(ctx->device_id));
    } catch (...) {
        log_caught(r->connection->log, "$wa_pair_device_id");
        return NGX_ERROR;
    }
}

// Points at text that lives as long as the request (its context, or a constant).
ngx_int_t set_static(ngx_http_variable_value_t *v, std::string_view value) {
    if (value.empty()) {
        return not_found(v);
    }
    v->data = reinterpret_cast<u_char *>(const_cast<char *>(value.data()));
    v->len = static_cast<unsigned>(value.size());
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

ngx_int_t auth_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t) noexcept {
    RequestCtx *ctx = get_ctx(r->main);
    return set_static(v, ctx != nullptr ? std::string_view(ctx->auth_method) : std::string_view());
}

ngx_int_t cache_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t) noexcept {
    RequestCtx *ctx = get_ctx(r);
    return set_static(v, ctx != nullptr ? cache_status_name(ctx->zone.cache) : std::string_view());
}

struct Variable {
    ngx_str_t name;
    ngx_http_get_variable_pt get;
};

Variable variables[] = {
    {ngx_string("wa_pair_auth"), auth_variable},
    {ngx_string("wa_pair_outcome"), outcome_variable},
    {ngx_string("wa_pair_backend_time"), backend_time_variable},
    {ngx_string("wa_pair_device_id"), device_id_variable},
    {ngx_string("wa_pair_cache"), cache_variable},
};

}  // namespace

ngx_int_t add_variables(ngx_conf_t *cf) noexcept {
    for (Variable &var : variables) {
        ngx_http_variable_t *v = ngx_http_add_variable(cf, &var.name, NGX_HTTP_VAR_NOCACHEABLE);
        if (v == nullptr) {
            return NGX_ERROR;
        }
        v->get_handler = var.get;
        v->data = 0;
    }
    return NGX_OK;
}

}  // namespace ngx_wa_pair
