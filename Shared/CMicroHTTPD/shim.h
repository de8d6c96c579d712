#pragma once
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <microhttpd.h>

// Typed wrappers for libmicrohttpd's variadic functions (Swift cannot call C variadics), plus a
// few helpers that keep pointer juggling on the C side. Used by the gateway (GatewayCore/HTTP).

/// Waits for one connection on `listen_fd` and hands it to `daemon` (`MHD_add_connection`),
/// which gives it to a worker of its pool chosen by the socket's number, the next one with room
/// when that one is full. Returns 0 once handed over, `EBUSY` without accepting while the daemon
/// holds `connection_limit` connections (further ones wait in the listen backlog, as when the
/// daemon listened itself), else `accept`'s `errno` (`EINVAL` once `listen_fd` was shut down).
static inline int cmhd_accept_into(struct MHD_Daemon *daemon, int listen_fd, unsigned int connection_limit) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if (info != NULL && info->num_connections >= connection_limit) return EBUSY;
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    int fd = accept(listen_fd, (struct sockaddr *)&address, &length);
    if (fd < 0) return errno;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)MHD_add_connection(daemon, fd, (const struct sockaddr *)&address, length);
    return 0;
}

/// Starts a daemon without a listening socket of its own (connections come from
/// ``cmhd_accept_into``) with an internal pool of `threads` polling threads (epoll where
/// available), a connection limit, a per-connection idle timeout (seconds) and a per-connection
/// memory pool of `memory_limit` bytes (which bounds the request header size).
///
/// Why not let it listen: each of its workers then polls the listening socket and, woken, accepts
/// up to 10 connections in a row (epoll), so connections opened at once (a proxy's or a load
/// generator's) end up on a few workers, where a handler blocked on an RPC call holds up every
/// other connection of its worker (16 connections seen on 4–5 of 16 workers).
static inline struct MHD_Daemon *cmhd_start(unsigned int threads, unsigned int connection_limit,
                                            unsigned int timeout_seconds, size_t memory_limit,
                                            MHD_AccessHandlerCallback handler, void *handler_cls,
                                            MHD_RequestCompletedCallback completed, void *completed_cls) {
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG
        | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    if (threads <= 1) {
        return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                                MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                                MHD_OPTION_END);
    }
    return MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_cls,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                            MHD_OPTION_END);
}

/// Writes the client's IPv4/IPv6 address as text into `buffer`; returns its length (0 if unknown).
static inline size_t cmhd_client_address(struct MHD_Connection *connection, char *buffer, size_t capacity) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr || capacity == 0) return 0;
    const struct sockaddr *sa = info->client_addr;
    const char *ok = NULL;
    if (sa->sa_family == AF_INET) {
        ok = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buffer, (socklen_t)capacity);
    } else if (sa->sa_family == AF_INET6) {
        ok = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buffer, (socklen_t)capacity);
    }
    return ok ? strlen(buffer) : 0;
}

struct cmhd_buffer {
    char *data;
    size_t capacity;
    size_t used;
    int overflow;
};

static enum MHD_Result cmhd_collect_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    struct cmhd_buffer *buffer = (struct cmhd_buffer *)cls;
    if (!key) return MHD_YES;
    if (!value) value = "";
    size_t k = strlen(key), v = strlen(value);
    if (buffer->used + k + v + 2 > buffer->capacity) {
        buffer->overflow = 1;
        return MHD_NO;
    }
    memcpy(buffer->data + buffer->used, key, k + 1);
    buffer->used += k + 1;
    memcpy(buffer->data + buffer->used, value, v + 1);
    buffer->used += v + 1;
    return MHD_YES;
}

/// Copies the values of `kind` (headers, query arguments) into `data` as `key\0value\0...`.
/// Returns the bytes used, or -1 when they do not fit in `capacity`.
static inline long cmhd_collect(struct MHD_Connection *connection, int kind, char *data, size_t capacity) {
    struct cmhd_buffer buffer = { data, capacity, 0, 0 };
    MHD_get_connection_values(connection, (enum MHD_ValueKind)kind, cmhd_collect_value, &buffer);
    return buffer.overflow ? -1 : (long)buffer.used;
}

static inline int cmhd_header_kind(void) { return MHD_HEADER_KIND; }
static inline int cmhd_query_kind(void) { return MHD_GET_ARGUMENT_KIND; }

/// Adds `headers` (NUL-separated name, value, name, value...) to `response`.
static inline void cmhd_add_headers(struct MHD_Response *response, const char *headers, size_t headers_length) {
    size_t offset = 0;
    while (offset < headers_length) {
        const char *name = headers + offset;
        offset += strlen(name) + 1;
        if (offset >= headers_length) break;
        const char *value = headers + offset;
        offset += strlen(value) + 1;
        MHD_add_response_header(response, name, value);
    }
}

/// Queues a response with `status`, `body` (copied) and headers given as `name\0value\0...`.
/// Returns 1 when queued.
static inline int cmhd_respond(struct MHD_Connection *connection, unsigned int status, const void *body,
                               size_t length, const char *headers, size_t headers_length) {
    struct MHD_Response *response = MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!response) return 0;
    cmhd_add_headers(response, headers, headers_length);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result == MHD_YES ? 1 : 0;
}

/// A response whose body `reader` produces while it is sent (`length` < 0: unknown, chunked);
/// `release` runs once when libmicrohttpd is done with it (also when queueing fails).
static inline int cmhd_respond_stream(struct MHD_Connection *connection, unsigned int status, int64_t length,
                                      MHD_ContentReaderCallback reader, void *cls, MHD_ContentReaderFreeCallback release,
                                      const char *headers, size_t headers_length) {
    struct MHD_Response *response = MHD_create_response_from_callback(length < 0 ? MHD_SIZE_UNKNOWN : (uint64_t)length,
                                                                      64 * 1024, reader, cls, release);
    if (!response) { release(cls); return 0; }
    cmhd_add_headers(response, headers, headers_length);
    enum MHD_Result result = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return result == MHD_YES ? 1 : 0;
}

static inline ssize_t cmhd_end_of_stream(void) { return MHD_CONTENT_READER_END_OF_STREAM; }
static inline ssize_t cmhd_end_with_error(void) { return MHD_CONTENT_READER_END_WITH_ERROR; }

static inline int cmhd_yes(void) { return MHD_YES; }
static inline int cmhd_no(void) { return MHD_NO; }

/// The value of request header `name`, or NULL.
static inline const char *cmhd_header(struct MHD_Connection *connection, const char *name) {
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}
