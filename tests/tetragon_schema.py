#!/usr/bin/env python3
"""Strict check of JSON lines against Tetragon's event schema.

Reads GetEventsResponse JSON lines (captrail trace -o json) from the files
given, or stdin, and checks every one the way a strict protojson parser of
Tetragon's api/v1/tetragon/*.proto reads them: an unknown field, a value of
the wrong JSON type, an integer out of its range, a timestamp that is not
RFC 3339 or an enum name the enum lacks rejects the event. With
--canonical it also rejects what protojson itself never prints: empty
strings and lists, false and zero in plain (non-wrapper, non-oneof) fields.

The schema below is written from the .proto files' field names, types and
enum values; only the messages a process_kprobe event of cap_capable uses
are modelled, and a field of any other message type is reported as such.

Prints "N events parsed" and exits 0, or prints each problem and exits 1.
"""
import json
import re
import sys

# Field types: a scalar name, ("enum", NAME), ("msg", NAME), ("wrap", SCALAR)
# for google.protobuf wrappers, "timestamp", ("map", "string"), and
# ("rep", TYPE) for repeated fields. None: a message the checker does not model.
CAPABILITIES_TYPE = [
    "CAP_CHOWN", "DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]

ENUMS = {
    "CapabilitiesType": set(CAPABILITIES_TYPE),
    "SecureBitsType": {
        "SecBitNotSet", "SecBitNoRoot", "SecBitNoRootLocked", "SecBitNoSetUidFixup",
        "SecBitNoSetUidFixupLocked", "SecBitKeepCaps", "SecBitKeepCapsLocked",
        "SecBitNoCapAmbientRaise", "SecBitNoCapAmbientRaiseLocked",
    },
    "KprobeAction": {
        "KPROBE_ACTION_UNKNOWN", "KPROBE_ACTION_POST", "KPROBE_ACTION_FOLLOWFD",
        "KPROBE_ACTION_SIGKILL", "KPROBE_ACTION_UNFOLLOWFD", "KPROBE_ACTION_OVERRIDE",
        "KPROBE_ACTION_COPYFD", "KPROBE_ACTION_GETURL", "KPROBE_ACTION_DNSLOOKUP",
        "KPROBE_ACTION_NOPOST", "KPROBE_ACTION_SIGNAL", "KPROBE_ACTION_TRACKSOCK",
        "KPROBE_ACTION_UNTRACKSOCK", "KPROBE_ACTION_NOTIFYENFORCER",
        "KPROBE_ACTION_CLEANUPENFORCERNOTIFICATION", "KPROBE_ACTION_SET",
    },
}

U32 = ("wrap", "uint32")
MESSAGES = {
    "GetEventsResponse": {
        "process_exec": None, "process_exit": None, "process_kprobe": ("msg", "ProcessKprobe"),
        "process_tracepoint": None, "process_loader": None, "process_uprobe": None,
        "process_throttle": None, "process_lsm": None, "process_usdt": None, "test": None,
        "rate_limit_info": None, "node_name": "string", "time": "timestamp",
        "aggregation_info": None, "cluster_name": "string", "node_labels": ("map", "string"),
    },
    "ProcessKprobe": {
        "process": ("msg", "Process"), "parent": ("msg", "Process"),
        "function_name": "string", "args": ("rep", ("msg", "KprobeArgument")),
        "return": ("msg", "KprobeArgument"), "action": ("enum", "KprobeAction"),
        "kernel_stack_trace": ("rep", None), "policy_name": "string",
        "return_action": ("enum", "KprobeAction"), "message": "string",
        "tags": ("rep", "string"), "user_stack_trace": ("rep", None),
        "ancestors": ("rep", ("msg", "Process")), "data": ("rep", ("msg", "KprobeArgument")),
    },
    "Process": {
        "exec_id": "string", "pid": U32, "uid": U32, "cwd": "string", "binary": "string",
        "arguments": "string", "flags": "string", "start_time": "timestamp", "auid": U32,
        "pod": ("msg", "Pod"), "docker": "string", "parent_exec_id": "string",
        "refcnt": "uint32", "cap": ("msg", "Capabilities"), "ns": ("msg", "Namespaces"),
        "tid": U32, "process_credentials": ("msg", "ProcessCredentials"),
        "binary_properties": None, "user": None, "in_init_tree": ("wrap", "bool"),
        "environment_variables": ("rep", None),
    },
    "Pod": {
        "namespace": "string", "name": "string", "uid": "string",
        "container": ("msg", "Container"), "pod_labels": ("map", "string"),
        "workload": "string", "workload_kind": "string",
        "pod_annotations": ("map", "string"),
    },
    "Container": {
        "id": "string", "name": "string", "image": ("msg", "Image"),
        "start_time": "timestamp", "pid": U32, "maybe_exec_probe": "bool",
        "security_context": ("msg", "SecurityContext"),
    },
    "Image": {"id": "string", "name": "string"},
    "SecurityContext": {"privileged": "bool"},
    "Capabilities": {
        "permitted": ("rep", ("enum", "CapabilitiesType")),
        "effective": ("rep", ("enum", "CapabilitiesType")),
        "inheritable": ("rep", ("enum", "CapabilitiesType")),
    },
    "Namespace": {"inum": "uint32", "is_host": "bool"},
    "Namespaces": {k: ("msg", "Namespace") for k in (
        "uts", "ipc", "mnt", "pid", "pid_for_children", "net", "time",
        "time_for_children", "cgroup", "user")},
    "UserNamespace": {
        "level": ("wrap", "int32"), "uid": U32, "gid": U32, "ns": ("msg", "Namespace"),
    },
    "ProcessCredentials": {
        "uid": U32, "gid": U32, "euid": U32, "egid": U32, "suid": U32, "sgid": U32,
        "fsuid": U32, "fsgid": U32, "securebits": ("rep", ("enum", "SecureBitsType")),
        "caps": ("msg", "Capabilities"), "user_ns": ("msg", "UserNamespace"),
    },
    "KprobeCapability": {"value": ("wrap", "int32"), "name": "string"},
    "KprobeArgument": {
        "string_arg": "string", "int_arg": "int32", "skb_arg": None, "size_arg": "uint64",
        "bytes_arg": "bytes", "path_arg": None, "file_arg": None,
        "truncated_bytes_arg": None, "sock_arg": None, "cred_arg": None,
        "long_arg": "int64", "bpf_attr_arg": None, "perf_event_arg": None,
        "bpf_map_arg": None, "uint_arg": "uint32", "user_namespace_arg": None,
        "capability_arg": ("msg", "KprobeCapability"),
        "process_credentials_arg": ("msg", "ProcessCredentials"),
        "user_ns_arg": ("msg", "UserNamespace"), "module_arg": None,
        "kernel_cap_t_arg": "string", "cap_inheritable_arg": "string",
        "cap_permitted_arg": "string", "cap_effective_arg": "string",
        "linux_binprm_arg": None, "net_dev_arg": None, "bpf_cmd_arg": None,
        "syscall_id": None, "sockaddr_arg": None, "bpf_prog_arg": None, "error_arg": None,
        "sockaddrun_arg": None, "label": "string",
    },
}
# Members of a oneof: at most one is set, and a set one is printed even when
# it holds its type's zero value.
ONEOFS = {
    "GetEventsResponse": {"process_exec", "process_exit", "process_kprobe",
                          "process_tracepoint", "process_loader", "process_uprobe",
                          "process_throttle", "process_lsm", "process_usdt", "test",
                          "rate_limit_info"},
    "KprobeArgument": set(MESSAGES["KprobeArgument"]) - {"label"},
}

RANGES = {
    "int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1),
    "int64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1),
}
TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class Checker:
    def __init__(self, canonical):
        self.canonical = canonical
        self.problems = []

    def bad(self, path, what):
        self.problems.append(f"{path}: {what}")

    def integer(self, path, value, kind):
        # protojson takes an integer as a number or a decimal string.
        if isinstance(value, bool):
            return self.bad(path, f"{kind} is a bool")
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            return self.bad(path, f"{kind} is not an integer: {value!r}")
        low, high = RANGES[kind]
        if not low <= value <= high:
            self.bad(path, f"{kind} out of range: {value}")
        return value

    def scalar(self, path, value, kind):
        if kind == "string":
            if not isinstance(value, str):
                self.bad(path, f"string expected, got {value!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                self.bad(path, f"bool expected, got {value!r}")
        elif kind == "bytes":
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9+/_=-]*", value):
                self.bad(path, f"base64 expected, got {value!r}")
        elif kind == "timestamp":
            if not isinstance(value, str) or not TIMESTAMP.match(value):
                self.bad(path, f"RFC 3339 timestamp expected, got {value!r}")
        else:
            self.integer(path, value, kind)

    def value(self, path, value, ftype):
        if value is None:
            return self.bad(path, "null")
        if ftype is None:
            return self.bad(path, "a message this checker does not model")
        if isinstance(ftype, str):
            return self.scalar(path, value, ftype)
        kind, arg = ftype
        if kind == "wrap":
            return self.scalar(path, value, arg)
        if kind == "enum":
            if isinstance(value, str):
                if value not in ENUMS[arg]:
                    self.bad(path, f"{value!r} is no {arg} value")
            else:
                # An open enum takes numbers, known or not.
                self.integer(path, value, "int32")
            return None
        if kind == "msg":
            return self.message(path, value, arg)
        if kind == "map":
            if not isinstance(value, dict):
                return self.bad(path, "object expected")
            for k, v in value.items():
                self.scalar(f"{path}.{k}", v, arg)
            if self.canonical and not value:
                self.bad(path, "empty map (protojson omits it)")
            return None
        if kind == "rep":
            if not isinstance(value, list):
                return self.bad(path, "array expected")
            if self.canonical and not value:
                self.bad(path, "empty list (protojson omits it)")
            for i, item in enumerate(value):
                self.value(f"{path}[{i}]", item, arg)
            return None
        raise AssertionError(ftype)

    def message(self, path, obj, name):
        if not isinstance(obj, dict):
            return self.bad(path, f"object expected for {name}")
        fields = MESSAGES[name]
        by_json = {}
        for field in fields:
            by_json[field] = field
            by_json[camel(field)] = field
        seen = set()
        oneof = ONEOFS.get(name, set())
        for key, value in obj.items():
            field = by_json.get(key)
            where = f"{path}.{key}"
            if field is None:
                self.bad(where, f"unknown field of {name}")
                continue
            if field in seen:
                self.bad(where, "field given twice")
            seen.add(field)
            ftype = fields[field]
            if self.canonical and field not in oneof and isinstance(ftype, str) \
                    and (value == "" or value is False
                         or (type(value) is int and value == 0)):
                self.bad(where, f"{value!r} in a plain field (protojson omits it)")
            self.value(where, value, ftype)
        if len(seen & oneof) > 1:
            self.bad(path, f"more than one member of a oneof: {sorted(seen & oneof)}")
        return None


def pairs(items):
    obj = {}
    for key, value in items:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def main(argv):
    canonical = "--canonical" in argv
    files = [a for a in argv if a != "--canonical"] or ["-"]
    checker = Checker(canonical)
    parsed = 0
    for name in files:
        stream = sys.stdin if name == "-" else open(name, encoding="utf-8")
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            before = len(checker.problems)
            try:
                event = json.loads(line, object_pairs_hook=pairs)
            except ValueError as err:
                checker.bad(f"{name}:{lineno}", f"not JSON: {err}")
                continue
            checker.message(f"{name}:{lineno}", event, "GetEventsResponse")
            if len(checker.problems) == before:
                parsed += 1
    for problem in checker.problems:
        print(problem)
    print(f"{parsed} events parsed")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
