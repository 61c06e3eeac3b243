// `wa_pair_metrics;` (docs/metrics.md): Prometheus metrics of every wa_pair location and zone of this
// nginx. A module of its own in the same .so, so that its directive, configuration and
// lifecycle stay out of the wa_pair module's; the request flow reaches it through the hooks
// of ngx_wa_pair_metrics.hpp. This file: the directive, the configuration (which locations
// and zones are counted), the metrics zone, the log phase that counts requests, the scrape.

#include <string>

#include "nginx/ngx_wa_pair_caught.hpp"
#include "nginx/ngx_wa_pair_conf.hpp"
#include "nginx/ngx_wa_pair_metrics.hpp"

namespace ngx_wa_pair {
namespace {

char *metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
void *create_main_conf(ngx_conf_t *cf) noexcept;
void *create_loc_conf(ngx_conf_t *cf) noexcept;
char *merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept;
ngx_int_t postconfiguration(ngx_conf_t *cf) noexcept;
ngx_int_t init_process(ngx_cycle_t *cycle) noexcept;

ngx_command_t commands[] = {{ngx_string("wa_pair_metrics"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS, metrics_directive,
                             NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

                            ngx_null_command};

ngx_http_module_t module_ctx = {
    nullptr,            // preconfiguration
    postconfiguration,  // postconfiguration
    create_main_conf,   // create main configuration
    nullptr,            // init main configuration
    nullptr,            // create server configuration
    nullptr,            // merge server configuration
    create_loc_conf,    // create location configuration
    merge_loc_conf      // merge location configuration
};

// Its name is the module's own: `wa_pair_zone wa_pair_metrics:1m` is refused by nginx as a
// zone "already declared for a different use".
ngx_str_t kZoneName = ngx_string("wa_pair_metrics");
constexpr std::string_view kContentType = "text/plain; version=0.0.4";

}  // namespace
}  // namespace ngx_wa_pair

extern "C" {
ngx_module_t ngx_http_wa_pair_metrics_module = {NGX_MODULE_V1,
                                                &ngx_wa_pair::module_ctx,   // module context
                                                ngx_wa_pair::commands,      // module directives
                                                NGX_HTTP_MODULE,            // module type
                                                nullptr,                    // init master
                                                nullptr,                    // init module
                                                ngx_wa_pair::init_process,  // init process
                                                nullptr,                    // init thread
                                                nullptr,                    // exit thread
                                                nullptr,                    // exit process
                                                nullptr,                    // exit master
                                                NGX_MODULE_V1_PADDING};
}

namespace ngx_wa_pair {
namespace {

MetricsMainConf *main_conf(ngx_conf_t *cf) {
    return static_cast<MetricsMainConf *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_wa_pair_metrics_module));
}

// ---------------------------------------------------------------- the scrape

ngx_int_t scrape_handler(ngx_http_request_t *r) noexcept {
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    auto *mmcf = static_cast<MetricsMainConf *>(ngx_http_get_module_main_conf(r, ngx_http_wa_pair_metrics_module));
    ngx_buf_t *b;
    try {
        const std::string text = metrics_exposition(mmcf);
        b = ngx_create_temp_buf(r->pool, text.size());
        if (b == nullptr) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        b->last = ngx_cpymem(b->pos, text.data(), text.size());
    } catch (...) {
        log_caught(r->connection->log, "wa_pair_metrics");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type.len = kContentType.size();
    r->headers_out.content_type.data = reinterpret_cast<u_char *>(const_cast<char *>(kContentType.data()));
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.content_type_lowcase = nullptr;
    r->headers_out.content_length_n = b->last - b->pos;
    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

// ---------------------------------------------------------------- counting requests

// Every request a wa_pair location answered, however it ended (the access log's moment).
ngx_int_t log_handler(ngx_http_request_t *r) noexcept {
    auto *m = static_cast<MetricsLocConf *>(ngx_http_get_module_loc_conf(r, ngx_http_wa_pair_metrics_module));
    if (m->counters == nullptr || r != r->main) {
        return NGX_OK;
    }
    const ngx_uint_t status = r->err_status ? r->err_status : r->headers_out.status;  // $status
    const RequestCtx *ctx = get_ctx(r);
    const wa_pair::Outcome outcome =
        wa_pair::final_outcome(ctx != nullptr ? ctx->outcome : wa_pair::Outcome::none, static_cast<int>(status));
    metrics_count_request(m, status, outcome);
    return NGX_OK;
}

// ---------------------------------------------------------------- configuration

char *metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    (void)cmd;
    auto *m = static_cast<MetricsLocConf *>(conf);
    if (m->scrape) {
        return const_cast<char *>("is duplicate");
    }
    m->scrape = 1;
    main_conf(cf)->enabled = 1;
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = scrape_handler;
    return NGX_CONF_OK;
}

void *create_main_conf(ngx_conf_t *cf) noexcept {
    auto *mmcf = static_cast<MetricsMainConf *>(ngx_pcalloc(cf->pool, sizeof(MetricsMainConf)));
    if (mmcf == nullptr || ngx_array_init(&mmcf->locations, cf->pool, 8, sizeof(MetricsLocConf *)) != NGX_OK ||
        ngx_array_init(&mmcf->zones, cf->pool, 4, sizeof(MetricsZone)) != NGX_OK) {
        return nullptr;
    }
    return mmcf;
}

void *create_loc_conf(ngx_conf_t *cf) noexcept {
    return ngx_pcalloc(cf->pool, sizeof(MetricsLocConf));  // nothing counted, no scrape
}

// The wa_pair module's configuration is merged already (it comes first in this .so): a wa_pair
// location of an nginx with metrics registers here, its counters are found when the metrics
// zone is set up.
char *merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept {
    (void)parent;
    auto *m = static_cast<MetricsLocConf *>(child);
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_wa_pair_module));
    if (m->scrape && lcf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"wa_pair_metrics\" and \"wa_pair\" cannot share a location");
        return WA_PAIR_CONF_ERROR;
    }
    MetricsMainConf *mmcf = main_conf(cf);
    if (!lcf->enable || !mmcf->enabled) {
        return NGX_CONF_OK;
    }
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    m->name = clcf->name;
    if (lcf->zone.shm_zone != nullptr) {
        m->zone = lcf->zone.shm_zone->shm.name;
    }
    m->timeout = lcf->backend_timeout;
    m->protocol = lcf->backend_protocol;
    auto **slot = static_cast<MetricsLocConf **>(ngx_array_push(&mmcf->locations));
    if (slot == nullptr) {
        return WA_PAIR_CONF_ERROR;
    }
    *slot = m;
    return NGX_CONF_OK;
}

bool same_name(const ngx_str_t &a, const ngx_str_t &b) {
    return a.len == b.len && ngx_memcmp(a.data, b.data, a.len) == 0;
}

// The zone's counters must fit this configuration's names at least (a reload may need room for
// the names of earlier configurations too: metrics_init_zone warns about what does not fit).
bool fits(ngx_conf_t *cf, MetricsMainConf *mmcf) {
    ngx_uint_t pages = 0;
    auto **locs = static_cast<MetricsLocConf **>(mmcf->locations.elts);
    for (ngx_uint_t i = 0; i < mmcf->locations.nelts; i++) {
        bool first = true;
        for (ngx_uint_t j = 0; j < i && first; j++) {
            first = !same_name(locs[j]->name, locs[i]->name);
        }
        pages += first ? metrics_slot_pages(false, locs[i]->name.len) : 0;
    }
    auto *zones = static_cast<MetricsZone *>(mmcf->zones.elts);
    for (ngx_uint_t i = 0; i < mmcf->zones.nelts; i++) {
        pages += metrics_slot_pages(true, zones[i].name.len);
    }
    if (pages <= metrics_zone_pages()) {
        return true;
    }
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"wa_pair_metrics\" cannot count %ui wa_pair locations and %ui zones: their "
                       "counters need %ui pages of memory, the metrics zone has %ui",
                       mmcf->locations.nelts, mmcf->zones.nelts, pages, metrics_zone_pages());
    return false;
}

ngx_int_t postconfiguration(ngx_conf_t *cf) noexcept {
    MetricsMainConf *mmcf = main_conf(cf);
    if (!mmcf->enabled) {
        return NGX_OK;  // no wa_pair_metrics location: no zone, no log phase, nothing counted
    }
    // Every wa_pair_zone (ngx_wa_pair_zone.cpp adds them with the wa_pair module's tag).
    ngx_list_part_t *part = &cf->cycle->shared_memory.part;
    auto *shm = static_cast<ngx_shm_zone_t *>(part->elts);
    for (ngx_uint_t i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            shm = static_cast<ngx_shm_zone_t *>(part->elts);
            i = 0;
        }
        if (shm[i].tag != &ngx_http_wa_pair_module) {
            continue;
        }
        auto *z = static_cast<MetricsZone *>(ngx_array_push(&mmcf->zones));
        if (z == nullptr) {
            return NGX_ERROR;
        }
        *z = {shm[i].shm.name, &shm[i], nullptr};
    }
    if (!fits(cf, mmcf)) {
        return NGX_ERROR;
    }

    ngx_shm_zone_t *zone = ngx_shared_memory_add(cf, &kZoneName, kMetricsZoneSize, &ngx_http_wa_pair_metrics_module);
    if (zone == nullptr) {
        return NGX_ERROR;
    }
    zone->init = metrics_init_zone;
    zone->data = mmcf;

    auto *cmcf = static_cast<ngx_http_core_main_conf_t *>(ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto *h = static_cast<ngx_http_handler_pt *>(ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = log_handler;
    return NGX_OK;
}

// A new worker takes a process slot whose last owner is gone: its count of waiters starts at 0.
ngx_int_t init_process(ngx_cycle_t *cycle) noexcept {
    auto *mmcf =
        static_cast<MetricsMainConf *>(ngx_http_cycle_get_module_main_conf(cycle, ngx_http_wa_pair_metrics_module));
    if (mmcf == nullptr || !mmcf->enabled || ngx_process_slot < 0 || ngx_process_slot >= NGX_MAX_PROCESSES) {
        return NGX_OK;
    }
    auto **locs = static_cast<MetricsLocConf **>(mmcf->locations.elts);
    for (ngx_uint_t i = 0; i < mmcf->locations.nelts; i++) {
        if (locs[i]->waiting != nullptr) {
            locs[i]->waiting[ngx_process_slot] = 0;
        }
    }
    return NGX_OK;
}

}  // namespace
}  // namespace ngx_wa_pair
