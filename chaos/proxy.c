/* proxy.c — squall's TCP delay proxy (delay --port). It runs as one thread
 * of the agent, in the fault's network namespace: iptables nat rules
 * REDIRECT new TCP connections to the faulted port into its listener; for
 * each one it reads the original destination (SO_ORIGINAL_DST), connects
 * there with SO_MARK (which the rules skip, so that its own connection is
 * not redirected again), and relays both directions, holding each chunk it
 * reads back by latency ± jitter before forwarding it, in order. Memory is
 * bounded: a direction stops reading while its queue is full, and at most
 * max_conns connections are proxied (more wait in the listen queue), fewer
 * when the open-files limit is lower: CH_PROXY_FD_RESERVE descriptors are
 * always left to the agent, whose revert needs them. A connection whose
 * upstream socket cannot be had (EMFILE, ENFILE) waits, like those in the
 * listen queue. One of its own upstream connections redirected back into
 * it (a rule rewrote the mark) is refused with a reset, and said once.
 * When it stops (or the agent dies), every connection still open is reset
 * on both sides: a FIN would tell the other end that a stream cut short
 * was complete.
 *
 * One epoll loop, level-triggered; the timer is a min-heap of each
 * direction's next due time. Connections are freed only at the end of a
 * loop turn, so an event later in the same batch never sees freed memory. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter_ipv4.h>

#include "chaos/ch_internal.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"

struct conn;

/* What an epoll event points at: one socket of one connection. */
typedef struct end {
    struct conn *c;
    int side; /* 0 = the client's socket, 1 = the upstream socket */
} end;

/* One direction of a connection: reads fd[i], holds, writes fd[1 - i]. */
typedef struct half {
    struct conn *c;  /* the connection it belongs to */
    int i;           /* its index in c->h */
    ch_delayq q;
    ch_heap_node hn; /* in the heap while it has data and can write */
    int src_eof;     /* end of stream read (its mark is queued) */
    int dst_shut;    /* end of stream forwarded (shutdown SHUT_WR) */
    int blocked;     /* the last send would block: waiting for EPOLLOUT */
} half;

typedef struct conn {
    struct conn *prev, *next; /* live list, or the graveyard once dead */
    int fd[2];
    uint32_t mask[2];         /* events registered for fd[i] */
    int reg[2];               /* fd[i] is in the epoll set */
    int connecting;           /* the upstream connect is in progress (or waits) */
    int waiting;              /* no upstream socket yet: out of descriptors */
    int dead;
    struct sockaddr_in dst;   /* the original destination */
    struct sockaddr_in up;    /* the upstream socket's own address */
    end ends[2];
    half h[2];                /* h[0]: client -> upstream; h[1]: back */
} conn;

struct ch_proxy {
    ch_proxy_cfg cfg;
    int lfd, epfd, wakefd;
    int port;
    int listening;           /* lfd registered for EPOLLIN */
    int64_t starved_until;   /* out of descriptors: retry then (1 = at once) */
    pthread_t thread;
    int running;
    conn *live, *grave;
    int n_conns;
    int conn_cap;            /* max_conns, or fewer as the open-files limit allows */
    int n_waiting;           /* connections waiting for an upstream socket */
    int loop_warned;         /* the loop warning was printed */
    ch_heap heap;
    uint64_t rng;
    ch_proxy_stats st;
    unsigned char buf[CH_CHUNK_MAX];
};

/* The half that owns heap node n. */
static half *half_of(ch_heap_node *n)
{
    return (half *)(void *)((char *)n - offsetof(half, hn));
}

/* The --max-conns bound under the open-files hard limit (see
 * ch_internal.h). */
int ch_proxy_conn_limit(long *hard)
{
    struct rlimit rl;
    long h = 1L << 30;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
        rl.rlim_max < (rlim_t)h)
        h = (long)rl.rlim_max;
    if (hard)
        *hard = h;
    long n = (h - CH_PROXY_FD_RESERVE) / 2;
    return n < 1 ? 0 : n > CH_PROXY_MAX_CONNS_LIMIT ? CH_PROXY_MAX_CONNS_LIMIT : (int)n;
}

/* How many descriptors this process has open (from /proc/self/fd), or -1. */
static long fds_in_use(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Raises the open-files soft limit to the hard limit and works out how many
 * connections fit beside the descriptors already open, keeping
 * CH_PROXY_FD_RESERVE for the agent (its revert runs iptables): two per
 * connection. 0 and *cap (at most max_conns), or -EMFILE with err set. */
static int conn_cap(int max_conns, int *cap, sq_err *err)
{
    long soft = sq_raise_fd_limit();
    long used = fds_in_use();
    if (soft < 0 || used < 0) {
        *cap = max_conns; /* cannot tell: accept() and socket() failures still pause */
        return 0;
    }
    long room = (soft - CH_PROXY_FD_RESERVE - used) / 2;
    if (room < 1)
        return sq_errf(err, -EMFILE,
                       "delay proxy: the open-files limit (%ld, ulimit -n) leaves no room for "
                       "connections: %ld descriptors are open and %d are kept for the revert",
                       soft, used, CH_PROXY_FD_RESERVE);
    *cap = room < max_conns ? (int)room : max_conns;
    return 0;
}

/* Registers, changes or removes the listener's interest (paused while at
 * max_conns or out of descriptors). */
static void listen_set(ch_proxy *p, int on)
{
    if (on == p->listening)
        return;
    struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.ptr = &p->lfd};
    if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->lfd, &ev) == 0)
        p->listening = on;
}

/* Puts half i of c into the heap when it has data to write and may write,
 * or takes it out. */
static void half_resched(ch_proxy *p, conn *c, int i)
{
    half *h = &c->h[i];
    int want = !c->dead && h->q.head && !h->blocked && !(i == 0 && c->connecting);
    if (want)
        ch_heap_set(&p->heap, &h->hn, h->q.head->due_ns); /* room for every half */
    else
        ch_heap_remove(&p->heap, &h->hn);
}

/* Makes fd close with a reset (abort on) or normally. Proxied sockets are
 * aborting from the start, so that whoever closes them — the proxy, or the
 * kernel when the agent dies — never passes a cut-off stream off as
 * complete; only a connection that ended is closed normally. */
static void set_abort(int fd, int abort)
{
    struct linger lg = {abort, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

/* Closes both sockets of c (with a reset when hard) and moves it to the
 * graveyard, freed at the end of the loop turn. */
static void conn_close(ch_proxy *p, conn *c, int hard)
{
    if (c->dead)
        return;
    c->dead = 1;
    for (int i = 0; i < 2; i++) {
        ch_heap_remove(&p->heap, &c->h[i].hn);
        if (c->fd[i] < 0)
            continue;
        set_abort(c->fd[i], hard);
        close(c->fd[i]); /* also leaves the epoll set */
        c->fd[i] = -1;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        p->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = p->grave;
    p->grave = c;
    p->n_conns--;
    if (c->waiting)
        p->n_waiting--;
    if (p->starved_until)
        p->starved_until = 1; /* descriptors were freed: retry at the end of this turn */
    else
        listen_set(p, 1);
}

/* 1 when c has data held back, or has not forwarded the end of stream of
 * both directions: closing it with a FIN would cut a stream short. */
static int conn_unfinished(const conn *c)
{
    return c->h[0].q.head || c->h[1].q.head || !c->h[0].dst_shut || !c->h[1].dst_shut;
}

/* Frees the connections closed during this loop turn. */
static void bury(ch_proxy *p)
{
    while (p->grave) {
        conn *c = p->grave;
        p->grave = c->next;
        ch_delayq_clear(&c->h[0].q);
        ch_delayq_clear(&c->h[1].q);
        free(c);
    }
}

/* Brings the epoll interest of c's sockets in line with its state: read
 * while the direction has room, write while a send would block, and the
 * upstream's EPOLLOUT while it connects. A socket with no interest leaves
 * the set, so that a hang-up it cannot act on yet does not spin the loop. */
static void conn_sync(ch_proxy *p, conn *c)
{
    for (int s = 0; s < 2 && !c->dead; s++) {
        if (c->fd[s] < 0)
            continue; /* no upstream socket yet */
        uint32_t want = 0;
        if (s == 1 && c->connecting) {
            want = EPOLLOUT;
        } else {
            if (!c->h[s].src_eof && ch_delayq_room(&c->h[s].q, p->cfg.buf_cap) > 0)
                want |= EPOLLIN;
            if (c->h[1 - s].blocked)
                want |= EPOLLOUT;
        }
        if (c->reg[s] && want == c->mask[s])
            continue;
        struct epoll_event ev = {.events = want, .data.ptr = &c->ends[s]};
        int rc = 0;
        if (!want) {
            if (c->reg[s])
                rc = epoll_ctl(p->epfd, EPOLL_CTL_DEL, c->fd[s], NULL);
            c->reg[s] = 0;
        } else {
            rc = epoll_ctl(p->epfd, c->reg[s] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd[s], &ev);
            c->reg[s] = 1;
        }
        c->mask[s] = want;
        if (rc < 0)
            conn_close(p, c, 1);
    }
}

/* Sends what is due of half i of c; forwards the end of stream in its
 * place; closes c once both ends are forwarded. */
static void half_flush(ch_proxy *p, conn *c, int i, int64_t now)
{
    half *h = &c->h[i];
    int dst = c->fd[1 - i];
    while (h->q.head && h->q.head->due_ns <= now) {
        ch_chunk *k = h->q.head;
        if (k->eof) {
            shutdown(dst, SHUT_WR);
            h->dst_shut = 1;
            ch_delayq_pop(&h->q);
            continue;
        }
        ssize_t w = send(dst, k->data + k->off, k->len - k->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            h->blocked = 1;
            break;
        }
        if (w < 0) {
            conn_close(p, c, 1);
            return;
        }
        p->st.bytes[i] += (uint64_t)w;
        k->off += (size_t)w;
        if (k->off < k->len) {
            h->blocked = 1; /* the socket took part of it: its buffer is full */
            break;
        }
        ch_delayq_pop(&h->q);
    }
    if (c->h[0].dst_shut && c->h[1].dst_shut) {
        conn_close(p, c, 0);
        return;
    }
    half_resched(p, c, i);
    conn_sync(p, c);
}

/* Reads once from side s of c into its direction's queue, due after a
 * fresh random delay; the end of stream is queued as a mark. */
static void half_read(ch_proxy *p, conn *c, int s, int64_t now)
{
    half *h = &c->h[s];
    size_t room = ch_delayq_room(&h->q, p->cfg.buf_cap);
    if (h->src_eof || room == 0)
        return;
    ssize_t r = recv(c->fd[s], p->buf, room, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r < 0) {
        conn_close(p, c, 1);
        return;
    }
    int64_t due = now + ch_delay_pick(p->cfg.latency_ns[s], p->cfg.jitter_ns[s], &p->rng);
    if (ch_delayq_push(&h->q, p->buf, (size_t)(r > 0 ? r : 0), r == 0, due) < 0) {
        conn_close(p, c, 1);
        return;
    }
    if (r == 0)
        h->src_eof = 1;
    half_resched(p, c, s);
}

/* Handles the events of side s of c. */
static void on_event(ch_proxy *p, conn *c, int s, uint32_t events, int64_t now)
{
    if (s == 1 && c->connecting) {
        int e = 0;
        socklen_t len = sizeof e;
        if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e) {
            p->st.refused++;
            conn_close(p, c, 1); /* the client sees a reset, as from a refused connect */
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        c->connecting = 0;
        half_resched(p, c, 0);
        conn_sync(p, c);
        return;
    }
    if (events & EPOLLERR) {
        conn_close(p, c, 1);
        return;
    }
    if (events & EPOLLOUT) {
        c->h[1 - s].blocked = 0;
        half_resched(p, c, 1 - s);
    }
    if (events & (EPOLLIN | EPOLLHUP))
        half_read(p, c, s, now);
    if (!c->dead)
        conn_sync(p, c);
}

/* Opens c's upstream socket, marked, non-blocking, and starts connecting
 * it to the original destination. 0; -EAGAIN when no descriptor (or
 * buffer) can be had now (c waits, nothing changed); another negative
 * errno when the connection cannot be made (the caller resets c). */
static int conn_connect(ch_proxy *p, conn *c)
{
    int one = 1, e;
    int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
        e = errno;
        return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM ? -EAGAIN : -e;
    }
    if (setsockopt(up, SOL_SOCKET, SO_MARK, &p->cfg.mark, sizeof p->cfg.mark) < 0)
        goto fail;
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_abort(up, 1);
    int rc = connect(up, (struct sockaddr *)&c->dst, sizeof c->dst);
    if (rc < 0 && errno != EINPROGRESS)
        goto fail;
    /* Its own address: a connection accepted from there later is a loop. */
    socklen_t ul = sizeof c->up;
    if (getsockname(up, (struct sockaddr *)&c->up, &ul) < 0)
        goto fail;
    c->fd[1] = up;
    c->connecting = rc < 0;
    if (c->waiting) {
        c->waiting = 0;
        p->n_waiting--;
    }
    return 0;
fail:
    e = errno;
    close(up);
    return -e;
}

/* The live connection whose upstream socket has address a (a connection
 * of the proxy's own that came back into it), or NULL. */
static conn *upstream_at(ch_proxy *p, const struct sockaddr_in *a)
{
    for (conn *o = p->live; o; o = o->next)
        if (o->fd[1] >= 0 && o->up.sin_port == a->sin_port &&
            o->up.sin_addr.s_addr == a->sin_addr.s_addr)
            return o;
    return NULL;
}

/* Refuses a connection that is one of the proxy's own coming back: resets
 * it and the connection it came from, and says why once. */
static void refuse_loop(ch_proxy *p, conn *from)
{
    p->st.looped++;
    if (!p->loop_warned) {
        char a[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &from->dst.sin_addr, a, sizeof a);
        sq_warn("delay proxy: its own connection to %s:%d was redirected back into it: another "
                "rule rewrites packet marks (e.g. CONNMARK --restore-mark or MARK in the mangle "
                "table's OUTPUT chain), so the nat rule no longer recognises the proxy's mark "
                "%#x; such connections are reset (see docs/chaos.md, Delay)",
                a, ntohs(from->dst.sin_port), (unsigned)p->cfg.mark);
        p->loop_warned = 1;
    }
    conn_close(p, from, 1);
}

/* Takes a client accepted on fd: checks that it was redirected to the
 * faulted port and is not one of the proxy's own upstream connections,
 * then opens its upstream connection (or lets it wait for a descriptor).
 * Returns the new connection, or NULL after resetting fd. */
static conn *conn_open(ch_proxy *p, int fd)
{
    struct sockaddr_in dst, peer;
    socklen_t dl = sizeof dst, pl = sizeof peer;
    int one = 1;
    conn *c = NULL, *from;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 || peer.sin_family != AF_INET)
        goto fail;
    if ((from = upstream_at(p, &peer))) {
        refuse_loop(p, from);
        goto reset;
    }
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst, &dl) < 0 || dst.sin_family != AF_INET ||
        ntohs(dst.sin_port) != p->cfg.port)
        goto fail; /* not one of ours (a direct connection to the proxy's port) */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_abort(fd, 1);
    c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->fd[0] = fd;
    c->fd[1] = -1;
    c->dst = dst;
    c->connecting = 1;
    c->waiting = 1;
    p->n_waiting++;
    for (int i = 0; i < 2; i++) {
        c->ends[i] = (end){c, i};
        c->h[i].c = c;
        c->h[i].i = i;
        c->h[i].hn.idx = CH_HEAP_NONE;
    }
    int rc = conn_connect(p, c);
    if (rc == 0 || rc == -EAGAIN)
        return c;
    p->n_waiting--;
    free(c);
fail:
    p->st.refused++;
reset:
    set_abort(fd, 1);
    close(fd);
    return NULL;
}

/* Pauses accepting for 100 ms (or until a connection ends): out of
 * descriptors. */
static void starve(ch_proxy *p, int64_t now)
{
    listen_set(p, 0);
    p->starved_until = now + 100 * 1000000LL;
}

/* Gives the connections that wait for an upstream socket another try;
 * pauses again when there is still none. */
static void retry_waiting(ch_proxy *p, int64_t now)
{
    for (conn *c = p->live, *next; c && p->n_waiting > 0; c = next) {
        next = c->next;
        if (!c->waiting)
            continue;
        int rc = conn_connect(p, c);
        if (rc == -EAGAIN) {
            starve(p, now);
            return;
        }
        if (rc < 0) {
            p->st.refused++;
            conn_close(p, c, 1);
            continue;
        }
        half_resched(p, c, 0);
        conn_sync(p, c);
    }
}

/* Accepts what the listen queue holds, up to the connection cap; pauses
 * when out of descriptors (a connection whose upstream socket could not be
 * had waits for one). */
static void accept_all(ch_proxy *p, int64_t now)
{
    while (p->n_conns < p->conn_cap && !p->starved_until) {
        int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                starve(p, now);
            return;
        }
        conn *c = conn_open(p, fd);
        if (!c)
            continue;
        c->next = p->live;
        if (p->live)
            p->live->prev = c;
        p->live = c;
        p->n_conns++;
        p->st.conns++;
        if (p->n_conns > p->st.peak)
            p->st.peak = p->n_conns;
        conn_sync(p, c);
        if (c->waiting)
            starve(p, now);
    }
    if (!p->starved_until)
        listen_set(p, 0);
}

/* The epoll timeout in ms until the next due chunk or the end of a pause. */
static int next_timeout(const ch_proxy *p, int64_t now)
{
    ch_heap_node *top = ch_heap_top(&p->heap);
    int64_t until = top ? top->key : -1;
    if (p->starved_until && (until < 0 || p->starved_until < until))
        until = p->starved_until;
    if (until < 0)
        return -1;
    return ch_wait_ms(now, until);
}

/* The proxy thread: its loop until the wake descriptor is written. */
static void *proxy_main(void *arg)
{
    ch_proxy *p = arg;
    struct epoll_event evs[64];
    int stop = 0;
    while (!stop) {
        int n = epoll_wait(p->epfd, evs, 64, next_timeout(p, sq_mono_ns()));
        if (n < 0 && errno != EINTR)
            break; /* cannot happen with a valid epoll fd; the agent stops us */
        int64_t now = sq_mono_ns();
        for (int i = 0; i < n; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &p->wakefd) {
                stop = 1;
            } else if (ptr == &p->lfd) {
                accept_all(p, now);
            } else {
                end *e = ptr;
                if (!e->c->dead)
                    on_event(p, e->c, e->side, evs[i].events, now);
            }
        }
        if (p->starved_until && now >= p->starved_until) {
            p->starved_until = 0;
            retry_waiting(p, now);
            if (!p->starved_until && p->n_conns < p->conn_cap)
                listen_set(p, 1);
        }
        now = sq_mono_ns();
        ch_heap_node *top;
        while ((top = ch_heap_top(&p->heap)) && top->key <= now) {
            half *h = half_of(top);
            half_flush(p, h->c, h->i, now);
        }
        bury(p);
    }
    return NULL;
}

/* Starts the proxy (see ch_internal.h). */
int ch_proxy_start(const ch_proxy_cfg *cfg, ch_proxy **out, sq_err *err)
{
    int rc, one = 1;
    ch_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return sq_errf(err, -ENOMEM, "out of memory");
    p->cfg = *cfg;
    p->lfd = p->epfd = p->wakefd = -1;
    if (getrandom(&p->rng, sizeof p->rng, 0) != (ssize_t)sizeof p->rng)
        p->rng = (uint64_t)sq_mono_ns();
    if (ch_heap_init(&p->heap, (size_t)cfg->max_conns * 2)) {
        rc = sq_errf(err, -ENOMEM, "out of memory");
        goto fail;
    }
    /* A free port, never the faulted one (where nothing listens, the
     * kernel may offer it: the proxy would connect to itself). */
    for (int tries = 0; tries < 8; tries++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
        socklen_t sl = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1024) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
            rc = sq_errf(err, -errno, "delay proxy: cannot listen: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            goto fail;
        }
        if (p->lfd >= 0)
            close(p->lfd); /* the faulted port: held until now so it is not offered again */
        p->lfd = fd;
        p->port = ntohs(sa.sin_port);
        if (p->port != cfg->port)
            break;
    }
    if (p->port == cfg->port) {
        rc = sq_errf(err, -EADDRINUSE, "delay proxy: no free port other than %d", cfg->port);
        goto fail;
    }
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &p->lfd};
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &p->wakefd};
    if (p->epfd < 0 || p->wakefd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->lfd, &lev) < 0 ||
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &wev) < 0) {
        rc = sq_errf(err, -errno, "delay proxy: epoll: %s", strerror(errno));
        goto fail;
    }
    if ((rc = conn_cap(cfg->max_conns, &p->conn_cap, err)))
        goto fail;
    p->listening = 1;
    /* The thread starts with every signal blocked (they belong to the
     * agent's own loop) and in this thread's network namespace. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&p->thread, NULL, proxy_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        rc = sq_errf(err, -e, "delay proxy: cannot start its thread: %s", strerror(e));
        goto fail;
    }
    p->running = 1;
    *out = p;
    return 0;
fail:
    ch_proxy_stop(p, NULL);
    return rc;
}

/* The listening port. */
int ch_proxy_port(const ch_proxy *p)
{
    return p->port;
}

/* Stops and frees the proxy (see ch_internal.h). */
void ch_proxy_stop(ch_proxy *p, ch_proxy_stats *st)
{
    if (!p)
        return;
    if (p->running) {
        uint64_t one = 1;
        while (write(p->wakefd, &one, sizeof one) < 0 && errno == EINTR)
            ;
        pthread_join(p->thread, NULL);
    }
    /* A connection still here has not forwarded both ends of stream (it
     * would have been closed): a FIN now would pass a cut-off stream off
     * as complete, so both sides get a reset. */
    while (p->live)
        conn_close(p, p->live, conn_unfinished(p->live));
    bury(p);
    if (p->lfd >= 0)
        close(p->lfd); /* connections still in its queue are reset */
    if (st)
        *st = p->st;
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->wakefd >= 0)
        close(p->wakefd);
    ch_heap_free(&p->heap);
    free(p);
}
