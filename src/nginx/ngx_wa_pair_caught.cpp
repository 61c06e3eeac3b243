// What an entry point caught (ngx_wa_pair_caught.hpp).
#include "nginx/ngx_wa_pair_caught.hpp"

#include <exception>

namespace ngx_wa_pair {

const char *caught_what() noexcept {
    try {
        throw;
    } catch (const std::exception &e) {
        return e.what();  // the rethrown object is the one being handled: it outlives this
    } catch (...) {
        return "unknown exception";
    }
}

void log_caught(ngx_log_t *log, const char *where) noexcept {
    ngx_log_error(NGX_LOG_ALERT, log, 0, "wa_pair: %s: %s", where, caught_what());
}

void conf_log_caught(ngx_conf_t *cf, const ngx_str_t &directive) noexcept {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s", &directive, caught_what());
}

}  // namespace ngx_wa_pair
