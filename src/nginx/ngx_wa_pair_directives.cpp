// Directive handlers and value checks; every bad value fails `nginx -t` naming its directive.

#include <string>

#include "nginx/ngx_wa_pair_conf.hpp"

namespace ngx_wa_pair {

namespace {

ngx_str_t *args(ngx_conf_t *cf) {
    return static_cast<ngx_str_t *>(cf->args->elts);
}

void wipe_secret(void *data) noexcept {
    auto *s = static_cast<ngx_str_t *>(data);
    ngx_explicit_memzero(s->data, s->len);
}

}  // namespace

char *wa_pair_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
    auto *lcf = static_cast<wa_pair_loc_conf_t *>(conf);
    if (lcf->enable) {
        return const_cast<char *>("is duplicate");
    }
    lcf->enable = 1;
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = handler;
    lcf->core = clcf;
    (void)cmd;
    return NGX_CONF_OK;
}

// Reads a secret at configuration time; only its path ever appears in a message.
char *secret_file_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept {
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

char *check_positive_msec(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    return *static_cast<ngx_msec_t *>(data) == 0 ? const_cast<char *>("must be greater than 0") : NGX_CONF_OK;
}

char *check_code_timeout(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    time_t v = *static_cast<time_t *>(data);
    return (v < 1 || v > 86400) ? const_cast<char *>("must be between 1s and 1d") : NGX_CONF_OK;
}

char *check_leeway(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    return *static_cast<time_t *>(data) > 86400 ? const_cast<char *>("must not exceed 1d") : NGX_CONF_OK;
}

char *check_claim(ngx_conf_t *cf, void *post, void *data) noexcept {
    (void)cf;
    (void)post;
    auto *s = static_cast<ngx_str_t *>(data);
    for (size_t i = 0; i < s->len; i++) {
        if (s->data[i] <= 0x20 || s->data[i] >= 0x7f) {
            return const_cast<char *>("must be a claim name of printable characters");
        }
    }
    return s->len == 0 ? const_cast<char *>("must not be empty") : NGX_CONF_OK;
}

}  // namespace ngx_wa_pair
