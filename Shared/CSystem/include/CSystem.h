#pragma once
/* Linux system calls the Glibc module does not expose to Swift (epoll, eventfd, accept4, GNU
 * posix_spawn extensions), wrapped as plain functions. */
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

/** epoll event bits, as plain constants. */
extern const uint32_t csystem_epollin;
extern const uint32_t csystem_epollout;
extern const uint32_t csystem_epollerr;
extern const uint32_t csystem_epollhup;
extern const uint32_t csystem_epollrdhup;
extern const uint32_t csystem_epollexclusive;

/** One ready event: the registered token and the event bits. */
typedef struct {
    uint64_t token;
    uint32_t events;
} csystem_event;

int csystem_epoll_create(void);
/** Adds (op 0), modifies (op 1) or removes (op 2) fd with the given token and event bits. */
int csystem_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/** Waits for events; returns the count, 0 on timeout, -1 with errno on error (EINTR is retried by the caller). */
int csystem_epoll_wait(int epfd, csystem_event *events, int max, int timeout_ms);

int csystem_eventfd(void);
int csystem_eventfd_signal(int fd);
int csystem_eventfd_drain(int fd);

/** accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. */
int csystem_accept_nonblocking(int listen_fd);
/** Sets O_NONBLOCK. */
int csystem_set_nonblocking(int fd, int on);
/** TCP_NODELAY and SO_KEEPALIVE on a connected socket. */
int csystem_tune_tcp(int fd);
/** A listening TCP socket on host:port (port 0 = chosen by the OS), SO_REUSEADDR set, non-blocking. */
int csystem_listen_tcp(const char *host, int port, int backlog);
/** The local port of a bound socket. */
int csystem_local_port(int fd);
/** A blocking TCP connection to host:port within timeout_ms; -1 with errno on failure. */
int csystem_connect_tcp(const char *host, int port, int timeout_ms);
/** Ignores SIGPIPE process-wide. */
void csystem_ignore_sigpipe(void);
/** Blocks SIGTERM and SIGINT in the calling thread (call before starting threads) and returns a signalfd for them. */
int csystem_signalfd_term(void);
/** Reads one signal from a signalfd; returns the signal number or -1. */
int csystem_signalfd_read(int fd);
/** posix_spawn file action: close every descriptor from `lowest` up (glibc's GNU extension
 *  posix_spawn_file_actions_addclosefrom_np, which the Glibc module does not expose). */
int csystem_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowest);
/** posix_spawn file action: change to `directory` (posix_spawn_file_actions_addchdir_np). */
int csystem_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory);
/** The POSIX_SPAWN_SETSID flag (start the child in a new session). */
extern const short csystem_spawn_setsid;
/** Monotonic clock in nanoseconds. */
uint64_t csystem_monotonic_ns(void);

/** A one-shot event on a 32-bit word (initially 0): 0 not set, 1 a thread sleeps on it, 2 set.
 *  Sets the word and, only when a thread sleeps on it, wakes every sleeper (one futex call).
 *  Returns 1 when this call set it, 0 when it was set already. The release store publishes
 *  whatever the caller wrote before. */
int csystem_event_set(uint32_t *word);
/** Waits until the word is set: 1 once set (acquire), 0 when `deadline_ns` (CLOCK_MONOTONIC,
 *  0 = none) passed first. No system call when it is set already. */
int csystem_event_wait(uint32_t *word, uint64_t deadline_ns);
