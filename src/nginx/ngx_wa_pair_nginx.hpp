// The one place nginx's C headers enter C++.
#pragma once

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

extern "C" ngx_module_t ngx_http_wa_pair_module;

// NGX_CONF_ERROR is (void *) -1; directive handlers return char *.
#define WA_PAIR_CONF_ERROR (reinterpret_cast<char *>(NGX_CONF_ERROR))
