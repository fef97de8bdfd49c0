/* As root: keeps CAP_NET_BIND_SERVICE across a change to uid 65534 the way
 * chronyd does (PR_SET_KEEPCAPS, setuid, capset of permitted and effective),
 * and binds nothing, so no check ever asks for the capability. Exits 0, or
 * prints which step failed and exits 1. With "ambient", also raises it as
 * an ambient capability. */
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	__u32 bit = 1u << CAP_NET_BIND_SERVICE;
	int ambient = argc > 1 && strcmp(argv[1], "ambient") == 0;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
		perror("keep_cap: prctl(PR_SET_KEEPCAPS)");
		return 1;
	}
	if (setuid(65534)) {
		perror("keep_cap: setuid");
		return 1;
	}
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = bit;
	data[0].inheritable = ambient ? bit : 0;
	if (syscall(SYS_capset, &hdr, data)) {
		perror("keep_cap: capset");
		return 1;
	}
	if (ambient &&
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0)) {
		perror("keep_cap: prctl(PR_CAP_AMBIENT_RAISE)");
		return 1;
	}
	return 0;
}
