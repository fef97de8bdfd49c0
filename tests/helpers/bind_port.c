/* Binds 127.0.0.1:PORT over TCP and exits 0, or prints why not and exits 1:
 * a port below 1024 needs CAP_NET_BIND_SERVICE. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int one = 1, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bind_port PORT\n");
		return 2;
	}
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("bind_port");
		return 1;
	}
	close(fd);
	return 0;
}
