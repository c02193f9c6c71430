#include "CEventPoll.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

const uint32_t pl_poll_in = EPOLLIN;
const uint32_t pl_poll_out = EPOLLOUT;
const uint32_t pl_poll_error = EPOLLERR;
const uint32_t pl_poll_hang_up = EPOLLHUP;
const uint32_t pl_poll_read_hang_up = EPOLLRDHUP;

int pl_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int pl_epoll_control(int epoll, int op, int fd, uint32_t events, uint64_t token) {
    static const int ops[] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL};
    if (op < 0 || op > 2) { errno = EINVAL; return -1; }
    struct epoll_event event = {.events = events, .data = {.u64 = token}};
    return epoll_ctl(epoll, ops[op], fd, &event);
}

int pl_epoll_wait(int epoll, uint64_t *tokens, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    int count = epoll_wait(epoll, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        tokens[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return count;
}

int pl_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void pl_eventfd_signal(int fd) {
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {}
}

void pl_eventfd_drain(int fd) {
    uint64_t count;
    while (read(fd, &count, sizeof count) > 0 || errno == EINTR) {}
}
