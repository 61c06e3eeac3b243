// Pairing completion at the edge, the nginx side: `wa_pair_events;` receives an
// engine's webhooks and applies them to the zone (ngx_wa_pair_events.cpp), `wa_pair_status;`
// shows a device its own pairing state and holds a request until it changes
// (ngx_wa_pair_status.cpp). The parsing and the decisions are the core's (events.hpp,
// policy.hpp). Only the glue includes this header.
#pragma once

#include "nginx/ngx_wa_pair_nginx.hpp"

namespace ngx_wa_pair {

struct EventsKey;  // the prepared HMAC key of wa_pair_events_secret_file (ngx_wa_pair_events.cpp)

// Part of wa_pair_loc_conf_t: a plain struct, filled by offsetof.
struct EventsLocConf {
    ngx_flag_t enable;      // `wa_pair_events;` in this very location
    ngx_flag_t status;      // `wa_pair_status;` in this very location
    ngx_uint_t protocol;    // wa_pair_events_protocol (wa_pair::Protocol)
    ngx_str_t secret_path;  // wa_pair_events_secret_file as written; data == NULL: unset
    EventsKey *key;         // its key, prepared when the configuration is loaded
    ngx_str_t header_name;  // wa_pair_events_header; data == NULL: unset
    ngx_str_t header_value;
    ngx_shm_zone_t *shm_zone;  // wa_pair_events_zone
    time_t linked_ttl;         // wa_pair_linked_ttl
};

// ---- configuration (ngx_wa_pair_module.cpp's table and conf lifecycle)
extern ngx_conf_post_t linked_ttl_post;
char *events_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *events_protocol_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *events_secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *events_header_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *events_zone_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *status_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
void events_create_loc_conf(EventsLocConf *conf) noexcept;
// An event changed the zone in this worker: its waiters look now, not at the next 25 ms tick.
void status_wake_local() noexcept;
// Inherits the events directives and checks a wa_pair_events or wa_pair_status location.
char *events_merge_loc_conf(ngx_conf_t *cf, EventsLocConf *prev, EventsLocConf *conf,
                            ngx_shm_zone_t *zone_use) noexcept;

}  // namespace ngx_wa_pair
