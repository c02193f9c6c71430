// epoll and eventfd for the HTTP server's event loops. Swift's Glibc module does not import <sys/epoll.h>, and
// `struct epoll_event` is packed on x86-64, so the loops go through these small functions instead.
#ifndef CEVENTPOLL_H
#define CEVENTPOLL_H

#include <stdint.h>

/// Readiness bits, as epoll reports them.
extern const uint32_t pl_poll_in;
extern const uint32_t pl_poll_out;
extern const uint32_t pl_poll_error;
extern const uint32_t pl_poll_hang_up;
extern const uint32_t pl_poll_read_hang_up;

/// A new epoll instance (close-on-exec), or -1 with errno set.
int pl_epoll_create(void);

/// Starts (`op` 0), changes (1) or stops (2) watching `fd` for `events`; `token` comes back with its readiness.
int pl_epoll_control(int epoll, int op, int fd, uint32_t events, uint64_t token);

/// Waits up to `timeout_ms` for readiness; fills `tokens` and `events` (at most `capacity`, at most 256) and
/// returns how many, 0 on timeout, -1 with errno set (EINTR included).
int pl_epoll_wait(int epoll, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms);

/// A non-blocking, close-on-exec eventfd, or -1 with errno set.
int pl_eventfd_create(void);

/// Makes `fd` readable (wakes a loop waiting on it).
void pl_eventfd_signal(int fd);

/// Reads `fd` back to not readable.
void pl_eventfd_drain(int fd);

#endif
