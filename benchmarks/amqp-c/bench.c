/*
 * Baseline for scripts/bench-amqp: the same work as the Swift `amqp-bench`, written directly against
 * rabbitmq-c 0.11. One thread publishes COUNT persistent messages of SIZE bytes to a quorum queue with
 * publisher confirms (at most WINDOW unconfirmed); another consumes them with manual acks
 * (prefetch PREFETCH), each on its own connection. Prints one line of figures.
 *
 *   bench HOST PORT QUEUE COUNT SIZE WINDOW PREFETCH
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *host, *queue;
static int port, count, size, window_size, prefetch;

static void die_reply(amqp_rpc_reply_t r, const char *what) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL) { fprintf(stderr, "bench: %s failed (%d)\n", what, r.reply_type); exit(2); }
}
static void die_status(int s, const char *what) {
    if (s != AMQP_STATUS_OK) { fprintf(stderr, "bench: %s: %s\n", what, amqp_error_string2(s)); exit(2); }
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static amqp_connection_state_t open_connection(void) {
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    die_status(amqp_socket_open(s, host, port), "connect");
    die_reply(amqp_login(c, "/", 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(c, 1);
    die_reply(amqp_get_rpc_reply(c), "channel");
    return c;
}

static void *publisher(void *unused) {
    (void)unused;
    amqp_connection_state_t c = open_connection();
    amqp_confirm_select(c, 1);
    die_reply(amqp_get_rpc_reply(c), "confirm.select");
    char *body = malloc(size);
    memset(body, 'x', size);
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = 2;
    props.content_type = amqp_cstring_bytes("application/octet-stream");
    uint64_t published = 0, confirmed = 0;
    while (confirmed < (uint64_t)count) {
        while (published < (uint64_t)count && published - confirmed < (uint64_t)window_size) {
            die_status(amqp_basic_publish(c, 1, amqp_empty_bytes, amqp_cstring_bytes(queue), 1, 0, &props,
                                          (amqp_bytes_t){.len = size, .bytes = body}), "publish");
            published++;
        }
        amqp_frame_t f;
        die_status(amqp_simple_wait_frame(c, &f), "wait confirm");
        if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            confirmed = a->multiple ? a->delivery_tag : confirmed + 1;
        } else if (f.frame_type == AMQP_FRAME_METHOD) {
            fprintf(stderr, "bench: unexpected method %u while publishing\n", f.payload.method.id);
            exit(2);
        }
        amqp_maybe_release_buffers(c);
    }
    free(body);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 8) { fprintf(stderr, "usage: bench HOST PORT QUEUE COUNT SIZE WINDOW PREFETCH\n"); return 2; }
    host = argv[1]; port = atoi(argv[2]); queue = argv[3]; count = atoi(argv[4]); size = atoi(argv[5]);
    window_size = atoi(argv[6]); prefetch = atoi(argv[7]);

    amqp_connection_state_t c = open_connection();
    amqp_table_entry_t entry = {.key = amqp_cstring_bytes("x-queue-type"),
                                .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum")}};
    amqp_table_t args = {.num_entries = 1, .entries = &entry};
    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
    die_reply(amqp_get_rpc_reply(c), "queue.declare");
    amqp_basic_qos(c, 1, 0, (uint16_t)prefetch, 0);
    die_reply(amqp_get_rpc_reply(c), "basic.qos");
    amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    die_reply(amqp_get_rpc_reply(c), "basic.consume");

    double start = now();
    pthread_t thread;
    pthread_create(&thread, NULL, publisher, NULL);
    int received = 0;
    while (received < count) {
        amqp_envelope_t envelope;
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t r = amqp_consume_message(c, &envelope, NULL, 0);
        die_reply(r, "consume");
        die_status(amqp_basic_ack(c, 1, envelope.delivery_tag, 0), "ack");
        amqp_destroy_envelope(&envelope);
        received++;
    }
    double elapsed = now() - start;
    pthread_join(thread, NULL);
    amqp_queue_delete(c, 1, amqp_cstring_bytes(queue), 0, 0);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    printf("c messages=%d seconds=%.3f rate=%.0f\n", count, elapsed, count / elapsed);
    return 0;
}
