#ifndef DOCSEND_SYNC_CRABBITMQ_SHIM_H
#define DOCSEND_SYNC_CRABBITMQ_SHIM_H

// rabbitmq-c moved its headers under rabbitmq-c/ in 0.12; Debian 12 ships 0.11 with the legacy paths.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

#endif
