/* routes.c — request handling: the MHD access handler, the injected
 * behaviour (latency, stalls, error rate, ?delay and ?status overrides) and
 * the routes (/healthz, /stats, /items store, everything else). */
#include "tg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/parse.h"

enum {
    TG_PHASE_NEW = 0,  /* no call for this request yet */
    TG_PHASE_BODY,     /* headers seen; reading (and discarding) the body */
    TG_PHASE_SUSPENDED /* waiting in the delay queue; answer on the next call */
};

#define TG_JSON "application/json"
#define TG_BODY_STACK 4096

/* Maps a request method onto tg_method. */
static tg_method parse_method(const char *m)
{
    switch (m[0]) {
    case 'G': return strcmp(m, "GET") == 0 ? TG_M_GET : TG_M_OTHER;
    case 'H': return strcmp(m, "HEAD") == 0 ? TG_M_HEAD : TG_M_OTHER;
    case 'P':
        if (strcmp(m, "POST") == 0)
            return TG_M_POST;
        if (strcmp(m, "PUT") == 0)
            return TG_M_PUT;
        return strcmp(m, "PATCH") == 0 ? TG_M_PATCH : TG_M_OTHER;
    case 'D': return strcmp(m, "DELETE") == 0 ? TG_M_DELETE : TG_M_OTHER;
    default: return TG_M_OTHER;
    }
}

/* Maps a request path onto its route. */
static tg_route parse_route(const char *url)
{
    if (strncmp(url, "/items", 6) == 0) {
        const char *rest = url + 6;
        if (rest[0] == '\0' || strcmp(rest, "/") == 0)
            return TG_ROUTE_ITEMS;
        if (strcmp(rest, "/count") == 0)
            return TG_ROUTE_COUNT;
        if (rest[0] == '/')
            return TG_ROUTE_ITEM;
        return TG_ROUTE_GENERIC; /* "/itemsfoo" */
    }
    if (strcmp(url, "/healthz") == 0)
        return TG_ROUTE_HEALTHZ;
    if (strcmp(url, "/stats") == 0)
        return TG_ROUTE_STATS;
    return TG_ROUTE_GENERIC;
}

/* Parses the {id} of "/items/{id}" (decimal, 1..2^64-1). Returns 0 when it
 * is not a valid id. */
static uint64_t parse_item_id(const char *url)
{
    const char *s = url + 7; /* after "/items/" */
    uint64_t id = 0;
    if (!*s || strlen(s) > 20)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        uint64_t d = (uint64_t)(*s - '0');
        if (id > (UINT64_MAX - d) / 10)
            return 0;
        id = id * 10 + d;
    }
    return id;
}

/* Says whether the route is a control endpoint, exempt from injected
 * latency, stalls and errors. */
static int is_control(tg_route route)
{
    return route == TG_ROUTE_HEALTHZ || route == TG_ROUTE_STATS;
}

/* Queues resp with status on conn and counts it. resp stays owned by the
 * caller. Returns MHD's verdict. */
static enum MHD_Result queue(tg_server *srv, struct MHD_Connection *conn, const tg_req *r,
                             unsigned status, struct MHD_Response *resp)
{
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    if (ok == MHD_YES) {
        if (status >= TG_STATUS_MIN && status <= TG_STATUS_MAX)
            atomic_fetch_add_explicit(&srv->by_status[status - TG_STATUS_MIN], 1,
                                      memory_order_relaxed);
        atomic_fetch_add_explicit(is_control(r->route) ? &srv->control_requests : &srv->requests,
                                  1, memory_order_relaxed);
    }
    return ok;
}

/* Builds a response from body[0..len) (copied), with Content-Type type and,
 * when hname is set, one more header; queues it and releases it. */
static enum MHD_Result queue_copy(tg_server *srv, struct MHD_Connection *conn, const tg_req *r,
                                  unsigned status, const char *body, size_t len,
                                  const char *type, const char *hname, const char *hvalue)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if ((type && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) ||
        (hname && MHD_add_response_header(resp, hname, hvalue) != MHD_YES)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    enum MHD_Result ok = queue(srv, conn, r, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Answers with a JSON object holding prefix fields, then "path":url, then
 * suffix, i.e. {<prefix>"path":"<url>"<suffix>}. Uses the stack for small
 * bodies and the heap for long paths. */
static enum MHD_Result queue_path_json(tg_server *srv, struct MHD_Connection *conn,
                                       const tg_req *r, unsigned status, const char *prefix,
                                       const char *url)
{
    char stack[TG_BODY_STACK];
    size_t need = strlen(url) * 6 + strlen(prefix) + 64, pos = 0;
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf)
        return MHD_NO;
    size_t len = buf == stack ? sizeof stack : need;
    tg_json_fmt(buf, len, &pos, "{%s\"path\":", prefix);
    tg_json_str(buf, len, &pos, url);
    tg_json_fmt(buf, len, &pos, "}\n");
    enum MHD_Result ok = queue_copy(srv, conn, r, status, buf, pos, TG_JSON, NULL, NULL);
    if (buf != stack)
        free(buf);
    return ok;
}

/* Answers 405 with an Allow header listing the route's methods. */
static enum MHD_Result method_not_allowed(tg_server *srv, struct MHD_Connection *conn,
                                          const tg_req *r, const char *allow)
{
    static const char body[] = "{\"error\":\"method not allowed\"}\n";
    return queue_copy(srv, conn, r, 405, body, sizeof body - 1, TG_JSON, MHD_HTTP_HEADER_ALLOW,
                      allow);
}

/* Answers 400 with the message in r->bad_msg. */
static enum MHD_Result bad_request(tg_server *srv, struct MHD_Connection *conn, const tg_req *r,
                                   const char *msg)
{
    char buf[512];
    size_t pos = 0;
    tg_json_fmt(buf, sizeof buf, &pos, "{\"error\":");
    tg_json_str(buf, sizeof buf, &pos, msg);
    tg_json_fmt(buf, sizeof buf, &pos, "}\n");
    return queue_copy(srv, conn, r, 400, buf, pos, TG_JSON, NULL, NULL);
}

/* GET /stats: the counters as JSON. */
static enum MHD_Result route_stats(tg_server *srv, struct MHD_Connection *conn, const tg_req *r)
{
    char buf[16384];
    size_t pos = 0;
    tg_stats s;
    tg_server_stats(srv, &s);
    tg_json_fmt(buf, sizeof buf, &pos,
                "{\"requests\":%llu,\"control_requests\":%llu,\"by_status\":{",
                (unsigned long long)s.requests, (unsigned long long)s.control_requests);
    const char *sep = "";
    for (unsigned i = 0; i <= TG_STATUS_MAX - TG_STATUS_MIN; i++) {
        uint64_t n = atomic_load_explicit(&srv->by_status[i], memory_order_relaxed);
        if (n) {
            tg_json_fmt(buf, sizeof buf, &pos, "%s\"%u\":%llu", sep, i + TG_STATUS_MIN,
                        (unsigned long long)n);
            sep = ",";
        }
    }
    tg_json_fmt(buf, sizeof buf, &pos,
                "},\"items\":%llu,\"items_created\":%llu,\"items_deleted\":%llu,"
                "\"delayed\":%llu,\"stalled\":%llu,\"errors_injected\":%llu,\"uptime_s\":%.3f}\n",
                (unsigned long long)s.items, (unsigned long long)s.items_created,
                (unsigned long long)s.items_deleted, (unsigned long long)s.delayed,
                (unsigned long long)s.stalled, (unsigned long long)s.errors_injected,
                (double)(sq_mono_ns() - srv->start_ns) / 1e9);
    return queue_copy(srv, conn, r, 200, buf, pos, TG_JSON, NULL, NULL);
}

/* GET /items/count[?tag=T] (and GET /items): {"count":N}. */
static enum MHD_Result route_count(tg_server *srv, struct MHD_Connection *conn, const tg_req *r)
{
    char buf[64];
    size_t pos = 0;
    const char *tag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tag");
    if (tag && !*tag)
        return bad_request(srv, conn, r, "?tag= is empty; give the run tag to count");
    tg_json_fmt(buf, sizeof buf, &pos, "{\"count\":%llu}\n",
                (unsigned long long)tg_store_count(srv->store, tag));
    return queue_copy(srv, conn, r, 200, buf, pos, TG_JSON, NULL, NULL);
}

/* DELETE /items?tag=T: deletes every item carrying tag T and answers 200
 * {"deleted":N}; 400 without a tag (a bulk delete of everything is not
 * offered). */
static enum MHD_Result route_delete_tag(tg_server *srv, struct MHD_Connection *conn,
                                        const tg_req *r)
{
    char buf[64];
    size_t pos = 0;
    uint64_t n;
    const char *tag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tag");
    if (!tag || !*tag)
        return bad_request(srv, conn, r, "DELETE /items needs ?tag=T (the run tag whose items "
                                         "to delete)");
    if (tg_store_delete_tag(srv->store, tag, &n) != 0)
        return MHD_NO;
    tg_json_fmt(buf, sizeof buf, &pos, "{\"deleted\":%llu}\n", (unsigned long long)n);
    return queue_copy(srv, conn, r, 200, buf, pos, TG_JSON, NULL, NULL);
}

/* Writes an item as {"id":"<id>","tag":"<tag>"|null} into buf; returns the
 * length. */
static size_t item_json(char *buf, size_t len, uint64_t id, const char *tag)
{
    size_t pos = 0;
    tg_json_fmt(buf, len, &pos, "{\"id\":\"%llu\",\"tag\":", (unsigned long long)id);
    if (tag)
        tg_json_str(buf, len, &pos, tag);
    else
        tg_json_fmt(buf, len, &pos, "null");
    tg_json_fmt(buf, len, &pos, "}\n");
    return pos;
}

/* POST|PUT /items: stores a new item carrying the request's tag header and
 * answers 201 with its Location. */
static enum MHD_Result route_create(tg_server *srv, struct MHD_Connection *conn, const tg_req *r)
{
    char body[TG_TAG_MAX * 6 + 96], loc[48];
    uint64_t id;
    const char *tag = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, srv->tag_header);
    if (tag && !*tag)
        tag = NULL;
    if (tag && strlen(tag) > TG_TAG_MAX) {
        char msg[160];
        snprintf(msg, sizeof msg, "the %s header is longer than %d bytes", srv->tag_header,
                 TG_TAG_MAX);
        return bad_request(srv, conn, r, msg);
    }
    int rc = tg_store_add(srv->store, tag, &id);
    if (rc == -ENOSPC)
        return queue(srv, conn, r, 507, srv->resp.full);
    if (rc)
        return MHD_NO;
    snprintf(loc, sizeof loc, "/items/%llu", (unsigned long long)id);
    size_t len = item_json(body, sizeof body, id, tag);
    return queue_copy(srv, conn, r, 201, body, len, TG_JSON, MHD_HTTP_HEADER_LOCATION, loc);
}

/* GET|HEAD|PUT|PATCH /items/{id}: the item, or 404. */
static enum MHD_Result route_get_item(tg_server *srv, struct MHD_Connection *conn,
                                      const tg_req *r, uint64_t id)
{
    char tag[TG_TAG_MAX + 1], body[TG_TAG_MAX * 6 + 96];
    int has_tag = 0;
    if (tg_store_get(srv->store, id, tag, sizeof tag, &has_tag) != 0)
        return queue(srv, conn, r, 404, srv->resp.not_found);
    size_t len = item_json(body, sizeof body, id, has_tag ? tag : NULL);
    return queue_copy(srv, conn, r, 200, body, len, TG_JSON, NULL, NULL);
}

/* Routes a request whose injected behaviour is settled, and answers it. */
static enum MHD_Result respond(tg_server *srv, struct MHD_Connection *conn, const char *url,
                               tg_req *r)
{
    tg_method m = r->method;
    int read = m == TG_M_GET || m == TG_M_HEAD;

    if (r->bad_query)
        return bad_request(srv, conn, r, r->bad_msg);
    if (r->too_large)
        return queue(srv, conn, r, 413, srv->resp.too_large);
    if (r->status) {
        if ((r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304)
            return queue(srv, conn, r, r->status, srv->resp.empty);
        char prefix[48];
        snprintf(prefix, sizeof prefix, "\"status\":%u,", r->status);
        return queue_path_json(srv, conn, r, r->status, prefix, url);
    }
    if (r->inject_error) {
        atomic_fetch_add_explicit(&srv->errors_injected, 1, memory_order_relaxed);
        return queue(srv, conn, r, 500, srv->resp.error);
    }
    switch (r->route) {
    case TG_ROUTE_HEALTHZ:
        return read ? queue(srv, conn, r, 200, srv->resp.healthz)
                    : method_not_allowed(srv, conn, r, "GET, HEAD");
    case TG_ROUTE_STATS:
        return read ? route_stats(srv, conn, r) : method_not_allowed(srv, conn, r, "GET, HEAD");
    case TG_ROUTE_ITEMS:
        if (m == TG_M_POST || m == TG_M_PUT)
            return route_create(srv, conn, r);
        if (m == TG_M_DELETE)
            return route_delete_tag(srv, conn, r);
        return read ? route_count(srv, conn, r)
                    : method_not_allowed(srv, conn, r, "GET, HEAD, POST, PUT, DELETE");
    case TG_ROUTE_COUNT:
        return read ? route_count(srv, conn, r) : method_not_allowed(srv, conn, r, "GET, HEAD");
    case TG_ROUTE_ITEM: {
        uint64_t id = parse_item_id(url);
        if (m == TG_M_DELETE) {
            if (tg_store_delete(srv->store, id) == 0)
                return queue(srv, conn, r, 204, srv->resp.empty);
            return queue(srv, conn, r, 404, srv->resp.not_found);
        }
        if (read || m == TG_M_PUT || m == TG_M_PATCH)
            return route_get_item(srv, conn, r, id);
        return method_not_allowed(srv, conn, r, "GET, HEAD, PUT, PATCH, DELETE");
    }
    default:
        if (m == TG_M_OTHER)
            return method_not_allowed(srv, conn, r, "GET, HEAD, POST, PUT, PATCH, DELETE");
        return queue_path_json(srv, conn, r, 200, "\"ok\":true,", url);
    }
}

/* Reads the ?delay= and ?status= overrides into r (r->bad_query on a bad
 * value). Returns the requested delay in ns, or -1 when none was given. */
static int64_t read_overrides(struct MHD_Connection *conn, tg_req *r)
{
    int64_t delay = -1;
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "delay");
    if (v) {
        sq_err err;
        err.msg[0] = '\0';
        if (sq_parse_duration(v, &delay, &err) != 0 || delay < 0) {
            r->bad_query = 1;
            snprintf(r->bad_msg, sizeof r->bad_msg, "?delay: %s",
                     err.msg[0] ? err.msg : "must not be negative");
            return -1;
        }
        if (delay > 3600 * SQ_NS_PER_S)
            delay = 3600 * SQ_NS_PER_S;
    }
    v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "status");
    if (v) {
        char *end;
        unsigned long st = strtoul(v, &end, 10);
        if (!*v || *end || v[0] < '0' || v[0] > '9' || st < 100 || st > 599) {
            r->bad_query = 1;
            snprintf(r->bad_msg, sizeof r->bad_msg,
                     "?status: '%.40s' is not a status code 100..599", v);
            return -1;
        }
        r->status = (unsigned)st;
    }
    return delay;
}

/* Settles a request's injected behaviour: overrides, error injection, added
 * latency and stall windows. Returns the monotonic time at which to answer
 * (<= now means at once). */
static int64_t plan(tg_server *srv, struct MHD_Connection *conn, tg_req *r, int64_t now)
{
    const tg_options *o = &srv->opts;
    int64_t delay = read_overrides(conn, r);
    if (r->bad_query)
        return now;
    int control = is_control(r->route);
    if (delay < 0)
        delay = control ? 0 : tg_latency_sample(&o->latency);
    if (!control && !r->status && r->route == TG_ROUTE_GENERIC && o->error_rate > 0 &&
        tg_rand_unit() < o->error_rate)
        r->inject_error = 1;
    int64_t due = now + delay;
    if (!control && o->stall_every_ns > 0) {
        /* Windows [k*every, k*every+for) after start hold every answer due
         * inside them until the window ends. */
        int64_t rel = due - srv->start_ns;
        int64_t k = rel / o->stall_every_ns;
        if (rel - k * o->stall_every_ns < o->stall_for_ns) {
            due = srv->start_ns + k * o->stall_every_ns + o->stall_for_ns;
            atomic_fetch_add_explicit(&srv->stalled, 1, memory_order_relaxed);
        }
    }
    return due;
}

/* Starts a request: resets the per-request state kept in the connection's
 * context and classifies method and route. Returns the context, or NULL. */
static tg_conn *begin(tg_server *srv, struct MHD_Connection *conn, const char *url,
                      const char *method)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    tg_conn *c = ci ? ci->socket_context : NULL;
    if (!c)
        return NULL;
    tg_req *r = &c->req;
    r->phase = TG_PHASE_BODY;
    r->route = parse_route(url);
    r->method = parse_method(method);
    r->inject_error = r->delayed = r->too_large = r->bad_query = 0;
    r->status = 0;
    r->body_bytes = 0;
    r->bad_msg[0] = '\0';
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end == '\0' && n > srv->opts.max_body)
            r->too_large = 1;
    }
    return c;
}

/* The MHD access handler (see tg_internal.h). Call sequence per request:
 * first call (headers) -> begin(); calls with body data -> counted and
 * discarded; final call -> plan() and either answer, or suspend into the
 * delay queue and answer on the call that follows the resume. */
enum MHD_Result tg_handle(void *cls, struct MHD_Connection *conn, const char *url,
                          const char *method, const char *version, const char *upload_data,
                          size_t *upload_data_size, void **req_cls)
{
    tg_server *srv = cls;
    tg_conn *c = *req_cls;
    (void)version;
    (void)upload_data;

    if (!c) {
        if (!(c = begin(srv, conn, url, method)))
            return MHD_NO;
        *req_cls = c;
        /* A declared body over the limit is refused before it is read; MHD
         * then closes the connection after the answer. */
        if (c->req.too_large)
            return respond(srv, conn, url, &c->req);
        return MHD_YES;
    }
    tg_req *r = &c->req;
    if (*upload_data_size) {
        r->body_bytes += *upload_data_size;
        if (r->body_bytes > srv->opts.max_body)
            r->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->phase == TG_PHASE_BODY && !r->too_large) {
        int64_t now = sq_mono_ns();
        int64_t due = plan(srv, conn, r, now);
        if (due > now) {
            r->phase = TG_PHASE_SUSPENDED;
            r->delayed = 1;
            atomic_fetch_add_explicit(&srv->delayed_inflight, 1, memory_order_relaxed);
            if (tg_delay_suspend(srv->delay, conn, due) == 0) {
                atomic_fetch_add_explicit(&srv->delayed, 1, memory_order_relaxed);
                return MHD_YES;
            }
            /* Shutting down (or out of memory): answer at once. */
            r->delayed = 0;
            atomic_fetch_sub_explicit(&srv->delayed_inflight, 1, memory_order_relaxed);
        }
    }
    return respond(srv, conn, url, r);
}

/* Request-completed hook (see tg_internal.h): settles the delayed count. */
void tg_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    tg_server *srv = cls;
    tg_conn *c = *req_cls;
    (void)conn;
    (void)toe;
    if (c && c->req.delayed) {
        c->req.delayed = 0;
        atomic_fetch_sub_explicit(&srv->delayed_inflight, 1, memory_order_relaxed);
    }
    *req_cls = NULL;
}

/* Connection hook (see tg_internal.h): the tg_conn lives as long as the
 * connection; MHD keeps the pointer in *socket_context. */
void tg_connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(tg_conn));
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        free(*socket_context);
        *socket_context = NULL;
    }
}

/* Creates one constant response over a static string, with its
 * Content-Type. Returns NULL on out of memory. */
static struct MHD_Response *static_response(const char *body, const char *type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp && type &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    return resp;
}

/* Builds the shared constant responses (see tg_internal.h). */
int tg_static_init(tg_static *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->healthz = static_response("ok\n", "text/plain");
    resp->error = static_response("{\"error\":\"injected failure (--error-rate)\"}\n", TG_JSON);
    resp->not_found = static_response("{\"error\":\"not found\"}\n", TG_JSON);
    resp->too_large = static_response("{\"error\":\"request body too large\"}\n", TG_JSON);
    resp->full = static_response("{\"error\":\"store full (--max-items)\"}\n", TG_JSON);
    resp->empty = static_response("", NULL);
    if (!resp->healthz || !resp->error || !resp->not_found || !resp->too_large || !resp->full ||
        !resp->empty) {
        tg_static_free(resp);
        return -ENOMEM;
    }
    return 0;
}

/* Destroys the shared constant responses. */
void tg_static_free(tg_static *resp)
{
    struct MHD_Response **all[] = {&resp->healthz, &resp->error, &resp->not_found,
                                   &resp->too_large, &resp->full, &resp->empty};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i])
            MHD_destroy_response(*all[i]);
        *all[i] = NULL;
    }
}
