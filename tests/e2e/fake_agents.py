#!/usr/bin/env python3
"""Stand-ins for the agents of several nodes, for the Prometheus tests: one
HTTP server per node, each serving DIR/NODE.prom (the text exposition the
agent's /metrics writes, read again at every request, so a test changes
what the next scrape sees by rewriting the file) at /metrics.

Besides, every server answers /refuse/api/v1/query as a Prometheus that
refuses a query does (HTTP 400, status "error"), and anything else with
404, which is what a URL that is no Prometheus gives.

usage: fake_agents.py DIR PORTS_FILE NODE...  (PORTS_FILE gets "NODE PORT"
lines once every server listens on its loopback port.)"""
import http.server
import json
import os
import sys
import threading


def handler_for(path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/metrics":
                with open(path, "rb") as f:
                    body = f.read()
                self.reply(200, "text/plain; version=0.0.4", body)
            elif self.path.startswith("/refuse/api/v1/query?"):
                body = json.dumps({"status": "error", "errorType": "bad_data",
                                   "error": "parse error: unexpected \"\\n\""}).encode()
                self.reply(400, "application/json", body)
            else:
                self.reply(404, "text/plain", b"404 page not found\n")

        def reply(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def main():
    directory, ports_file, nodes = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = []
    for node in nodes:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), handler_for(os.path.join(directory, node + ".prom")))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        lines.append(f"{node} {server.server_address[1]}\n")
    with open(ports_file + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(ports_file + ".tmp", ports_file)
    threading.Event().wait()


main()
