/*
 * listen_latency: how long after a commit an alert reaches a LISTENing client.
 *
 * Usage: listen_latency PROBES SQL
 *
 * One connection LISTENs on riskguard_alert; another runs SQL (a transfer that raises
 * an alert) PROBES times in autocommit.  For each probe the latency is the time from
 * the moment the committing statement returned to the moment the listener holds the
 * notification naming the transfer id the statement returned (0 when it arrived first).  Prints the median, p99 and maximum in ms.
 * Connection parameters come from the environment (PGHOST, PGPORT, PGDATABASE, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <libpq-fe.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* wait up to timeout_ms for the notification whose payload holds want; its arrival time, or -1 */
static double
wait_notify(PGconn *c, const char *want, double timeout_ms)
{
	double		deadline = now_ms() + timeout_ms;

	for (;;)
	{
		PGnotify   *n;
		fd_set		fds;
		struct timeval tv;
		double		left;
		int			sock = PQsocket(c);

		PQconsumeInput(c);
		while ((n = PQnotifies(c)) != NULL)
		{
			double		t = now_ms();
			int			match = strstr(n->extra, want) != NULL;

			PQfreemem(n);
			if (match)
				return t;
		}
		left = deadline - now_ms();
		if (left <= 0)
			return -1;
		FD_ZERO(&fds);
		FD_SET(sock, &fds);
		tv.tv_sec = (long) (left / 1000);
		tv.tv_usec = (long) ((left - tv.tv_sec * 1000.0) * 1000);
		if (select(sock + 1, &fds, NULL, NULL, &tv) < 0)
			return -1;
	}
}

int
main(int argc, char **argv)
{
	int			probes;
	double	   *lat;
	int			got = 0,
				lost = 0;
	PGconn	   *listener,
			   *sender;
	PGresult   *r;

	if (argc != 3)
	{
		fprintf(stderr, "usage: listen_latency PROBES SQL\n");
		return 2;
	}
	probes = atoi(argv[1]);
	lat = calloc(probes > 0 ? probes : 1, sizeof(double));
	listener = PQconnectdb("");
	sender = PQconnectdb("");
	if (PQstatus(listener) != CONNECTION_OK || PQstatus(sender) != CONNECTION_OK)
	{
		fprintf(stderr, "listen_latency: %s", PQerrorMessage(listener));
		return 1;
	}
	PQclear(PQexec(listener, "LISTEN riskguard_alert"));

	for (int i = 0; i < probes; i++)
	{
		double		committed,
					arrived;
		char		want[64];

		r = PQexec(sender, argv[2]);
		committed = now_ms();
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		{
			fprintf(stderr, "listen_latency: %s", PQerrorMessage(sender));
			return 1;
		}
		snprintf(want, sizeof(want), "\"transfer_id\": %s}", PQgetvalue(r, 0, 0));
		PQclear(r);
		arrived = wait_notify(listener, want, 2000);
		if (arrived < 0)
		{
			lost++;
			continue;
		}
		lat[got++] = arrived > committed ? arrived - committed : 0;
	}
	qsort(lat, got, sizeof(double), cmp_double);
	if (got == 0)
	{
		printf("0 0 0 %d\n", lost);
		return 0;
	}
	printf("%.2f %.2f %.2f %d\n", lat[got / 2], lat[(int) (got * 0.99 > got - 1 ? got - 1 : got * 0.99)],
		   lat[got - 1], lost);
	PQfinish(listener);
	PQfinish(sender);
	return 0;
}
