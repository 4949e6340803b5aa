"""A backend for the load_balancer scenario: `echo_backend.py PORT` answers every path with
what it received (its port, the path, the headers) as JSON, `/slow` after two seconds, and a
WebSocket upgrade with 101, then echoes the bytes it gets, as Streamlit's socket would carry
them. Each request's line and Host header go to stdout (the journal), health checks
included. Standard library only: the scenario installs nothing for it."""

import base64
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        print(f"{self.command} {self.path} host={self.headers.get('Host')}", flush=True)
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.tunnel()
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.startswith("/slow"):
            time.sleep(2)
        body = json.dumps(
            {
                "port": PORT,
                "method": self.command,
                "path": self.path,
                "headers": {
                    name.lower(): self.headers.get_all(name) for name in set(self.headers.keys())
                },
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def tunnel(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + WEBSOCKET_GUID).encode(), usedforsecurity=False).digest()
        )
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        while data := self.connection.recv(4096):
            self.connection.sendall(data)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: do_GET prints one line per request instead."""


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
