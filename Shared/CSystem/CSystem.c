#define _GNU_SOURCE
#include "CSystem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const uint32_t csystem_epollin = EPOLLIN;
const uint32_t csystem_epollout = EPOLLOUT;
const uint32_t csystem_epollerr = EPOLLERR;
const uint32_t csystem_epollhup = EPOLLHUP;
const uint32_t csystem_epollrdhup = EPOLLRDHUP;
const uint32_t csystem_epollexclusive = EPOLLEXCLUSIVE;

int csystem_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int csystem_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = token;
    int cop = op == 0 ? EPOLL_CTL_ADD : (op == 1 ? EPOLL_CTL_MOD : EPOLL_CTL_DEL);
    return epoll_ctl(epfd, cop, fd, &ev);
}

int csystem_epoll_wait(int epfd, csystem_event *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].token = evs[i].data.u64;
        events[i].events = evs[i].events;
    }
    return n;
}

int csystem_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int csystem_eventfd_signal(int fd) {
    uint64_t one = 1;
    return (int)write(fd, &one, sizeof one);
}

int csystem_eventfd_drain(int fd) {
    uint64_t value;
    return (int)read(fd, &value, sizeof value);
}

int csystem_accept_nonblocking(int listen_fd) {
    return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int csystem_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int csystem_tune_tcp(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

static int resolve(const char *host, int port, struct addrinfo **out, int passive) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (passive) hints.ai_flags = AI_PASSIVE;
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    return getaddrinfo(host, portbuf, &hints, out);
}

int csystem_listen_tcp(const char *host, int port, int backlog) {
    struct addrinfo *ai = NULL;
    if (resolve(host, port, &ai, 1) != 0 || ai == NULL) { errno = EADDRNOTAVAIL; return -1; }
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, backlog) == 0) break;
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int csystem_local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int csystem_connect_tcp(const char *host, int port, int timeout_ms) {
    struct addrinfo *ai = NULL;
    if (resolve(host, port, &ai, 0) != 0 || ai == NULL) { errno = EHOSTUNREACH; return -1; }
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
        if (fd < 0) continue;
        int rc = connect(fd, p->ai_addr, p->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            rc = poll(&pfd, 1, timeout_ms);
            if (rc == 1) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                rc = err == 0 ? 0 : -1;
                if (err) errno = err;
            } else {
                if (rc == 0) errno = ETIMEDOUT;
                rc = -1;
            }
        }
        if (rc == 0) {
            csystem_set_nonblocking(fd, 0);
            csystem_tune_tcp(fd);
            break;
        }
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

void csystem_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

int csystem_signalfd_term(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int csystem_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n != sizeof info) return -1;
    return (int)info.ssi_signo;
}

uint64_t csystem_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int csystem_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int csystem_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory) {
    return posix_spawn_file_actions_addchdir_np(actions, directory);
}

const short csystem_spawn_setsid = POSIX_SPAWN_SETSID;

int csystem_event_set(uint32_t *word) {
    uint32_t previous = __atomic_exchange_n(word, 2u, __ATOMIC_ACQ_REL);
    if (previous == 1u) syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    return previous != 2u;
}

int csystem_event_wait(uint32_t *word, uint64_t deadline_ns) {
    uint32_t state = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    if (state == 2u) return 1;
    /* Announce a sleeper (0 -> 1); another waiter may have done it already. */
    if (state == 0u && !__atomic_compare_exchange_n(word, &state, 1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE) && state == 2u) return 1;
    struct timespec until;
    until.tv_sec = (time_t)(deadline_ns / 1000000000ull);
    until.tv_nsec = (long)(deadline_ns % 1000000000ull);
    for (;;) {
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time; it returns at once when the
         * word is no longer 1 (set meanwhile). */
        long result = syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, 1u, deadline_ns ? &until : NULL, NULL,
                              FUTEX_BITSET_MATCH_ANY);
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 2u) return 1;
        if (result == -1 && errno == ETIMEDOUT) return 0;
    }
}
