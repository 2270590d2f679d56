#ifndef DOCSEND_SYNC_CSHIMS_H
#define DOCSEND_SYNC_CSHIMS_H

// Non-variadic, prefixed wrappers for the C calls Swift cannot import (variadic functions),
// plus a few small helpers that are awkward to express in Swift.

#include <stdint.h>
#include <stddef.h>

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#else
#include <amqp.h>
#endif
#include <curl/curl.h>

// MARK: rabbitmq-c

/// `amqp_login_with_properties` (variadic) with SASL PLAIN: client properties such as `connection_name` and
/// `capabilities` (consumer_cancel_notify, publisher_confirms, ...).
amqp_rpc_reply_t dss_amqp_login_plain_with_properties(amqp_connection_state_t state, const char *vhost,
                                                      int channel_max, int frame_max, int heartbeat,
                                                      const amqp_table_t *properties, const char *user,
                                                      const char *password);

/// The calling thread's stack size as pthread reports it (pthread_getattr_np is a GNU extension Swift's
/// Glibc module does not expose); 0 if it cannot tell.
size_t dss_current_thread_stack_size(void);

// MARK: libcurl

typedef size_t (*dss_curl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);

CURLcode dss_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode dss_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode dss_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode dss_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode dss_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode dss_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, dss_curl_data_callback callback);
CURLcode dss_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode dss_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

/// The easy handle and result of a finished transfer from `curl_multi_info_read`
/// (CURLMsg holds them in a union). Returns 1 when a finished transfer was read, 0 when none is left.
int dss_curl_multi_next_done(CURLM *multi, CURL **handle, CURLcode *result);

#endif
