// The request id of X-Request-ID: a sane incoming one, else nginx's $request_id.
//
// nginx draws $request_id with one RAND_bytes call per request, which costs as much as the
// rest of an early reject (OpenSSL 3 locks and dispatches through its DRBG provider on every
// call). The worker draws from the same generator in batches instead and stores the id as
// the request's cached $request_id, so the access log and X-Request-ID still agree.

#include <cctype>

#include <openssl/rand.h>

#include "common/ascii.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

namespace {

constexpr size_t kIdBytes = 16;  // as nginx: 16 random bytes, 32 hex digits
constexpr size_t kBatchBytes = 64 * kIdBytes;

// Per worker (reset in init_process, so no two workers ever hand out the same bytes).
u_char batch[kBatchBytes];
size_t batch_next = kBatchBytes;  // everything used: draw on first need

bool next_random(u_char out[kIdBytes]) {
    if (batch_next + kIdBytes > kBatchBytes) {
        if (RAND_bytes(batch, static_cast<int>(kBatchBytes)) != 1) {
            return false;
        }
        batch_next = 0;
    }
    ngx_memcpy(out, batch + batch_next, kIdBytes);
    ngx_memzero(batch + batch_next, kIdBytes);  // handed out once
    batch_next += kIdBytes;
    return true;
}

bool sane(std::string_view v) {
    if (v.empty() || v.size() > 128) {
        return false;
    }
    for (char ch : v) {
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == ':' || ch == '-')) {
            return false;
        }
    }
    return true;
}

// $request_id for this request: the cached value when something already asked for it, else
// a new one stored as the cached value. Empty when the generator fails, as nginx would.
std::string_view nginx_request_id(ngx_http_request_t *r) {
    auto *mcf = static_cast<wa_pair_main_conf_t *>(ngx_http_get_module_main_conf(r, ngx_http_wa_pair_module));
    ngx_http_variable_value_t *vv = &r->variables[mcf->request_id_index];
    if (!vv->valid) {
        u_char random[kIdBytes];
        auto *id = static_cast<u_char *>(ngx_pnalloc(r->pool, 2 * kIdBytes));
        if (id == nullptr || !next_random(random)) {
            return {};
        }
        wa_pair::ascii::hex_lower(reinterpret_cast<char *>(id), random, kIdBytes);
        vv->len = 2 * kIdBytes;
        vv->data = id;
        vv->valid = 1;
        vv->no_cacheable = 0;
        vv->not_found = 0;
    }
    if (vv->not_found) {
        return {};
    }
    return {reinterpret_cast<const char *>(vv->data), vv->len};
}

}  // namespace

void request_id_worker_init() {
    ngx_memzero(batch, sizeof(batch));
    batch_next = kBatchBytes;
}

// The incoming X-Request-ID when it is sane (1..128 of [A-Za-z0-9._:-]), else $request_id.
std::string_view request_id(ngx_http_request_t *r) {
    for (ngx_list_part_t *part = &r->headers_in.headers.part; part != nullptr; part = part->next) {
        auto *h = static_cast<ngx_table_elt_t *>(part->elts);
        for (ngx_uint_t i = 0; i < part->nelts; i++) {
            if (h[i].key.len == 12 && ngx_strncasecmp(h[i].key.data, (u_char *)"X-Request-ID", 12) == 0 &&
                sane(view(h[i].value))) {
                return view(h[i].value);
            }
        }
    }
    return nginx_request_id(r);
}

}  // namespace ngx_wa_pair
