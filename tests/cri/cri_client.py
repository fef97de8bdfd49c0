#!/usr/bin/python3
"""A test-only CRI client: drives containerd's CRI plugin the way the kubelet
does (RunPodSandbox, CreateContainer, StartContainer, ...) over its unix
socket, with the messages of cri.proto.

cri_pb2 is generated at test time (protoc --python_out=DIR cri.proto) and
found through --pb2-dir; methods are called by their full gRPC names with
the messages' own (de)serializers, so no generated service stubs (and no
grpc-tools) are needed.

Answers are printed as JSON (field names as in the proto); ids alone for
runp and create. Exit 0, 1 on an RPC error (its code and details on
stderr), 2 on bad usage.
"""
import argparse
import json
import sys

SERVICE = "/runtime.v1.RuntimeService/"


def pairs(values):
    out = {}
    for v in values or []:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise SystemExit("cri_client: not KEY=VALUE: %r" % v)
        out[key] = value
    return out


class Client:
    def __init__(self, grpc, pb, socket, timeout):
        self.pb = pb
        self.timeout = timeout
        self.channel = grpc.insecure_channel("unix://" + socket)

    def call(self, method, request, response_type):
        rpc = self.channel.unary_unary(SERVICE + method,
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=response_type.FromString)
        return rpc(request, timeout=self.timeout)


def sandbox_config(pb, a):
    cfg = pb.PodSandboxConfig()
    cfg.metadata.name = a.name
    cfg.metadata.namespace = a.namespace
    cfg.metadata.uid = a.uid
    cfg.hostname = a.hostname or ""
    cfg.labels.update(pairs(a.label))
    cfg.annotations.update(pairs(a.annotation))
    if a.cgroup_parent:
        cfg.linux.cgroup_parent = a.cgroup_parent
    # No CNI here: the pod shares the node's network and IPC (and so its
    # hostname: no hostname is sent), as a hostNetwork pod; its pid
    # namespace stays the pod's own.
    ns = cfg.linux.security_context.namespace_options
    ns.network = pb.NODE
    ns.ipc = pb.NODE
    ns.pid = pb.POD
    return cfg


def as_json(pb_message):
    from google.protobuf import json_format
    return json.dumps(json_format.MessageToDict(pb_message, preserving_proto_field_name=True),
                      sort_keys=True)


def main():
    p = argparse.ArgumentParser(prog="cri_client")
    p.add_argument("--socket", required=True, help="containerd's gRPC socket")
    p.add_argument("--pb2-dir", required=True, help="where protoc wrote cri_pb2.py")
    p.add_argument("--timeout", type=float, default=60)
    sub = p.add_subparsers(dest="cmd", required=True)

    sub.add_parser("version")
    r = sub.add_parser("runp", help="run a pod sandbox; prints its id")
    r.add_argument("--name", required=True)
    r.add_argument("--namespace", required=True)
    r.add_argument("--uid", required=True)
    r.add_argument("--hostname")
    r.add_argument("--label", action="append")
    r.add_argument("--annotation", action="append")
    r.add_argument("--cgroup-parent")
    r.add_argument("--save", required=True,
                   help="file to keep the sandbox config in, for create")
    c = sub.add_parser("create", help="create a container in a pod; prints its id")
    c.add_argument("--pod", required=True, help="the sandbox id")
    c.add_argument("--pod-config", required=True, help="the file runp --save wrote")
    c.add_argument("--name", required=True)
    c.add_argument("--image", required=True)
    c.add_argument("--label", action="append")
    c.add_argument("--annotation", action="append")
    c.add_argument("command", nargs="+")
    for name in ("start", "status", "podstatus", "stop", "rm", "stopp", "rmp"):
        sub.add_parser(name).add_argument("id")
    a = p.parse_args()

    sys.path.insert(0, a.pb2_dir)
    import grpc
    import cri_pb2 as pb

    cl = Client(grpc, pb, a.socket, a.timeout)
    try:
        if a.cmd == "version":
            print(as_json(cl.call("Version", pb.VersionRequest(version="v1"),
                                  pb.VersionResponse)))
        elif a.cmd == "runp":
            cfg = sandbox_config(pb, a)
            with open(a.save, "wb") as f:
                f.write(cfg.SerializeToString())
            print(cl.call("RunPodSandbox", pb.RunPodSandboxRequest(config=cfg),
                          pb.RunPodSandboxResponse).pod_sandbox_id)
        elif a.cmd == "create":
            with open(a.pod_config, "rb") as f:
                cfg = pb.PodSandboxConfig.FromString(f.read())
            cc = pb.ContainerConfig()
            cc.metadata.name = a.name
            cc.image.image = a.image
            cc.command.extend(a.command)
            cc.labels.update(pairs(a.label))
            cc.annotations.update(pairs(a.annotation))
            req = pb.CreateContainerRequest(pod_sandbox_id=a.pod, config=cc,
                                            sandbox_config=cfg)
            print(cl.call("CreateContainer", req, pb.CreateContainerResponse).container_id)
        elif a.cmd == "start":
            cl.call("StartContainer", pb.StartContainerRequest(container_id=a.id),
                    pb.StartContainerResponse)
        elif a.cmd == "status":
            print(as_json(cl.call("ContainerStatus", pb.ContainerStatusRequest(container_id=a.id),
                                  pb.ContainerStatusResponse)))
        elif a.cmd == "podstatus":
            print(as_json(cl.call("PodSandboxStatus",
                                  pb.PodSandboxStatusRequest(pod_sandbox_id=a.id),
                                  pb.PodSandboxStatusResponse)))
        elif a.cmd == "stop":
            cl.call("StopContainer", pb.StopContainerRequest(container_id=a.id, timeout=0),
                    pb.StopContainerResponse)
        elif a.cmd == "rm":
            cl.call("RemoveContainer", pb.RemoveContainerRequest(container_id=a.id),
                    pb.RemoveContainerResponse)
        elif a.cmd == "stopp":
            cl.call("StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=a.id),
                    pb.StopPodSandboxResponse)
        elif a.cmd == "rmp":
            cl.call("RemovePodSandbox", pb.RemovePodSandboxRequest(pod_sandbox_id=a.id),
                    pb.RemovePodSandboxResponse)
    except grpc.RpcError as e:
        print("cri_client %s: %s: %s" % (a.cmd, e.code().name.lower(), e.details()),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
