/* The sandbox image's one program, as the kubelet's pause: it holds the
 * pod's namespaces, reaps what is re-parented to it (the pod's pid 1) and
 * exits 0 on SIGTERM or SIGINT. Built static by the tests (no registry). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGCHLD, on_child);
	for (;;)
		pause();
}
