/* The agent's local API: newline-delimited JSON over a unix stream socket
 * (docs/protocol.md). A client sends one request line:
 *   {"version":1,"op":"events","filter":{...evfilter_from_json()...}}
 *     -> {"version":1,"stream":"events"}, then one event per line (the
 *        format of `trace -o json`), and {"notice":"...","dropped":N,
 *        "reason":"queue_full|oversized|stalled"} where events were
 *        dropped for the client (stalled: the last line);
 *   {"version":1,"op":"profile","select":{"pod":"NS/NAME"} | {"container":
 *    "ID-OR-NAME"} | {"binary":"/PATH"} | {"unit":"NAME"} | {"all":true}}
 *     -> {"version":1,"profile":[row, ...],"instances":[{"workload_id":N,
 *        "instance":"ID"}, ...],"store":{gaps}} and end of stream; gaps are
 *        what the reply cannot show (struct store_gaps): rows the agent
 *        could not store yet, observations lost, invalid rows skipped, and
 *        its last flush's errno;
 * Any error -> {"version":1,"error":"..."} and that connection only ends.
 *
 * This module has the messages; agent/api_server.h and agent/api_client.h
 * the two ends. */
#ifndef CAPTRAIL_AGENT_API_PROTOCOL_H
#define CAPTRAIL_AGENT_API_PROTOCOL_H

#include <stddef.h>

#include <json-c/json.h>

#include "agent/store.h"

#define API_VERSION 1
#define API_DEFAULT_SOCKET "/run/captrail/captrail.sock"
#define API_MAX_REQUEST (64 * 1024) /* bytes of a request line, newline included */
#define API_MAX_REPLY (256 * 1024 * 1024) /* a profile reply line, client side */
/* Messages are one line: no pretty-printing; "/" needs no escape. */
#define API_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* {"profile":[rows],"instances":[...],"store":{gaps}} from a store. Rows are
 * flat objects mirroring struct store_row; back with api_row_from_json(),
 * whose strings point into obj; the gaps with api_gaps_from_json(). */
int api_profile_reply(struct store *store, const struct store_filter *filter,
		      json_object **ret_reply);
#define API_ERRNO_MAX 4095 /* a flush_errno beyond is not an errno */
int api_gaps_from_json(json_object *obj, struct store_gaps *ret_gaps);
json_object *api_row_to_json(const struct store_row *row);
int api_row_from_json(json_object *obj, struct store_row *ret_row);

/* The "select" object for a filter, and back (-EINVAL with a message). */
int api_select_to_json(const struct store_filter *filter, json_object **ret_select);
int api_select_from_json(json_object *select, struct store_filter *ret_filter, char *buf,
			 size_t size, char *err, size_t err_size);

#endif
