// SPDX-License-Identifier: GPL-2.0
/* The floor: an empty program on the hook captrail uses. Whatever this costs
 * per check is the price of attaching anything at all. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/cap_capable")
int BPF_PROG(floor_cap_capable)
{
	return 0;
}
