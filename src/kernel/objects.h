/* What a check was made on: the syscall's arguments and the data the BPF
 * side read for it (struct ct_object_event) as one line of text, the way a
 * reader would name it: "/var/lib/nginx/body -> 33:33" (chown), "port 80"
 * (bind), "pid 1234" (kill), "uid 33" (setuid). Which syscalls have an
 * object, and which argument the BPF side reads, is one table here. */
#ifndef CAPTRAIL_KERNEL_OBJECTS_H
#define CAPTRAIL_KERNEL_OBJECTS_H

#include "bpf/captrail.h"

#define OBJECTS_TEXT_LEN (CT_OBJECT_DATA + 64) /* a path, an owner or mode, "..." */

/* Calls fn for each syscall of the table this architecture has, with what
 * the BPF side is to read for it; stops at fn's error and returns it. */
int objects_specs(int (*fn)(void *ctx, int nr, const struct ct_object_spec *spec), void *ctx);

/* The object of the record's check; -ENOENT when it has none to show (a
 * syscall outside the table, data that could not be read, an address
 * family without a port). */
int objects_render(const struct ct_object_event *e, char ret_text[OBJECTS_TEXT_LEN]);

#endif
