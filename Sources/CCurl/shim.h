#ifndef DOCSEND_SYNC_CCURL_SHIM_H
#define DOCSEND_SYNC_CCURL_SHIM_H

#include <curl/curl.h>

#endif
