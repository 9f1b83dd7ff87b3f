// SPDX-License-Identifier: GPL-2.0
/*
 * connectloop N: N TCP connections over loopback to a listener this
 * program runs itself: socket, connect (127.0.0.1, blocking), accept,
 * close both. Each op is one connect system call and one
 * tcp_v4_connect(). The client closes with SO_LINGER 0 (a reset), so no
 * TIME_WAIT sockets pile up and exhaust the ephemeral ports at large N;
 * the socket state changes per op are therefore the same on every op.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	const struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	socklen_t len = sizeof(addr);
	uint64_t n, i, t0, t1;
	int lfd;

	workload_init(argc, argv);
	if (argc != 2)
		usage("N");
	n = parse_count(argv[1]);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die_errno("socket");
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)))
		die_errno("bind 127.0.0.1");
	if (listen(lfd, 16))
		die_errno("listen");
	if (getsockname(lfd, (struct sockaddr *)&addr, &len))
		die_errno("getsockname");
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		int cfd = socket(AF_INET, SOCK_STREAM, 0);
		int afd;

		if (cfd < 0)
			die_errno("socket");
		if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr)))
			die_errno("connect 127.0.0.1 (is lo up?)");
		afd = accept(lfd, NULL, NULL);
		if (afd < 0)
			die_errno("accept");
		if (setsockopt(cfd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)))
			die_errno("setsockopt SO_LINGER");
		if (close(cfd) || close(afd))
			die_errno("close");
	}
	t1 = now_ns();
	close(lfd);
	report(n, t1 - t0);
	return 0;
}
