/*
 * guard.c — slow clients cannot hold serve: every connection must deliver a whole request
 * within a deadline that trickling bytes do not extend, and new connections push out the
 * oldest ones still waiting for their request (per client address, and in all).
 *
 * libmicrohttpd tells us of each connection (MHD_OPTION_NOTIFY_CONNECTION); a connection
 * is "waiting" from its accept, or from the end of its previous request, until its request
 * (headers and body) is in. A sweeper thread shuts down the socket of a waiting connection
 * past its deadline; libmicrohttpd's thread of that connection then sees the end and closes
 * it. An entry leaves the list when libmicrohttpd reports the connection closed, which it
 * does before it closes the socket, so the sweeper never touches a socket that is not ours.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web_p.h"

#define DEADLINE	10.0	/* seconds to deliver a request, from accept or the last one */
#define WAITING_PER_IP	8	/* waiting connections of one client address at most */
#define WAITING_MAX	32	/* waiting connections in all at most (of CONN_LIMIT) */
#define SWEEP_MS	250	/* the sweeper's period */

struct gconn {
	struct gconn		*prev, *next;
	struct guard		*g;
	int			 fd;
	struct sockaddr_storage	 peer;
	double			 deadline;	/* monotonic; 0 while its request is handled */
	int			 cut;		/* shut down, not yet closed */
};

struct guard {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 sweeper;
	int			 stop;
	struct gconn		*head;
};

/* Same client address (the port aside). */
static int
same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* Shuts c down (g->mu held). */
static void
cut(struct gconn *c, const char *why)
{
	c->cut = 1;
	shutdown(c->fd, SHUT_RDWR);
	log_debug("serve: connection closed: %s", why);
}

/* When more than max waiting connections (of peer's address, or all when peer is NULL)
 * are open, the oldest waiting one is cut (g->mu held). */
static void
push_out(struct guard *g, const struct sockaddr_storage *peer, int max, const char *why)
{
	struct gconn *old = NULL;
	int n = 0;

	for (struct gconn *c = g->head; c; c = c->next) {
		if (c->cut || c->deadline == 0 || (peer && !same_ip(&c->peer, peer)))
			continue;
		n++;
		if (old == NULL || c->deadline < old->deadline)
			old = c;
	}
	if (n > max && old)
		cut(old, why);
}

static void *
sweeper(void *arg)
{
	struct guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		double now = ps_monotonic();
		for (struct gconn *c = g->head; c; c = c->next)
			if (!c->cut && c->deadline != 0 && now > c->deadline)
				cut(c, "no whole request in time");
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SWEEP_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

void
guard_free(struct guard *g)
{
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->sweeper, NULL);
	while (g->head) {		/* none after MHD_stop_daemon; for the record */
		struct gconn *c = g->head;
		g->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

struct guard *
guard_new(void)
{
	struct guard *g = xcalloc(1, sizeof(*g));
	int rc;

	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if ((rc = pthread_create(&g->sweeper, NULL, sweeper, g)) != 0) {
		errno = rc;
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

/* A new connection: listed, waiting; older waiting ones pushed out past the limits. */
static struct gconn *
conn_started(struct guard *g, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *fd, *addr;
	struct gconn *c;

	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->g = g;
	c->fd = fd->connect_fd;
	if (addr && addr->client_addr && (addr->client_addr->sa_family == AF_INET ||
	    addr->client_addr->sa_family == AF_INET6))
		memcpy(&c->peer, addr->client_addr, addr->client_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	c->deadline = ps_monotonic() + DEADLINE;
	pthread_mutex_lock(&g->mu);
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	push_out(g, &c->peer, WAITING_PER_IP, "pushed out by a newer one of the same client");
	push_out(g, NULL, WAITING_MAX, "pushed out by a newer one");
	pthread_mutex_unlock(&g->mu);
	return c;
}

void
guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct guard *g = cls;
	struct gconn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = conn_started(g, conn);
		return;
	}
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
	*socket_context = NULL;
}

void
guard_request(struct MHD_Connection *conn, int in)
{
	const union MHD_ConnectionInfo *ci;
	struct gconn *c;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&c->g->mu);
	c->deadline = in ? 0 : ps_monotonic() + DEADLINE;
	pthread_mutex_unlock(&c->g->mu);
}
