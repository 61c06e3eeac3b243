// Authentication: the content handler's step, and `wa_pair_authenticate on;`, the same step in
// the access phase of any location (an edge that authenticates and routes with proxy_pass).
// An accepted request has $wa_pair_device_id and $wa_pair_auth for map, proxy_set_header and
// logs; a refused one gets the contract's 401 envelope with WWW-Authenticate.

#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_jwks.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"
#include "auth/auth.hpp"

namespace ngx_wa_pair {

ngx_int_t authenticate(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    std::string_view authorization;
    if (r->headers_in.authorization != nullptr) {
        authorization = view(r->headers_in.authorization->value);
    }
    if (lcf->auth_config == nullptr) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "wa_pair: no authentication configured");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    const wa_pair::KeySet *fetched = lcf->jwks != nullptr ? jwks_keys(lcf->jwks).keys : nullptr;
    wa_pair::AuthResult scratch;
    const wa_pair::AuthResult &auth =
        wa_pair::authenticate_into(authorization, *lcf->auth_config, ngx_time(), scratch, fetched);
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
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "wa_pair: unauthorized: %s", auth.reason.c_str());
    if (lcf->jwks != nullptr) {
        if (auth.unknown_kid) {
            jwks_unknown_kid(lcf->jwks);  // the provider may have rotated its keys
        }
        if (auth.no_key && fetched == nullptr) {
            return jwks_unavailable(r, lcf->jwks);  // not refused: not judged yet
        }
    }
    metrics_auth_failure(r, authorization);
    if (!add_header(r, "WWW-Authenticate", auth.token_presented ? "Bearer error=\"invalid_token\"" : "Bearer")) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return reject(r, auth.failure);
}

namespace {

// wa_pair_placement: the value for this device (a map from $wa_pair_device_id, say) must not be
// empty; a device the map does not place has no host to go to: 503, not a request elsewhere.
bool placed(ngx_http_request_t *r, wa_pair_loc_conf_t *lcf, RequestCtx *ctx) {
    if (lcf->placement == nullptr) {
        return true;
    }
    ngx_str_t owner;
    if (ngx_http_complex_value(r, lcf->placement, &owner) != NGX_OK) {
        return false;
    }
    if (owner.len == 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wa_pair: device \"%*s\" has no owner: \"wa_pair_placement %V\" is empty for it",
                      ctx->device_id.size(), ctx->device_id.data(), &lcf->placement->value);
        return false;
    }
    return true;
}

// The access phase of a location with wa_pair_authenticate on: NGX_OK lets the request on;
// a refusal is answered here (the envelope, then NGX_DONE: the phases stop).
ngx_int_t access_handler(ngx_http_request_t *r) noexcept {
    wa_pair_loc_conf_t *lcf = loc_conf(r);
    if (!lcf->authenticate || r != r->main) {
        return NGX_DECLINED;
    }
    try {
        RequestCtx *ctx = get_ctx(r);
        if (ctx != nullptr && !ctx->auth_method.empty()) {
            return NGX_OK;  // this request passed already
        }
        if (ctx == nullptr && (ctx = create_ctx(r)) == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        r->error_page = 1;  // the 401 is the contract's envelope wherever it is answered
        auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_get_module_loc_conf(r, ngx_http_core_module));
        ctx->body_limit = clcf->client_max_body_size;  // a refusal discards what nginx would read
        ngx_int_t rc = authenticate(r, lcf, ctx);
        if (rc == NGX_DECLINED) {
            if (placed(r, lcf, ctx)) {
                return NGX_OK;
            }
            rc = reject(r, wa_pair::map_transport_failure(wa_pair::TransportFailure::unreachable).failure);
        }
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    } catch (...) {
        log_caught(r->connection->log, "authenticating");
    }
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

}  // namespace

ngx_int_t install_access_handler(ngx_conf_t *cf) noexcept {
    auto *cmcf = static_cast<ngx_http_core_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto *h = static_cast<ngx_http_handler_pt *>(ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = access_handler;
    return NGX_OK;
}

}  // namespace ngx_wa_pair
