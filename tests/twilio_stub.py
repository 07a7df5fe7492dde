"""A Twilio-compatible HTTP server for the tests: records what the official client sends."""

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    form: dict
    auth: tuple[str, str] | None


@dataclass
class TwilioStub:
    """Answers Messages.json like Twilio; ``responses`` scripts the next answers (status, body)."""

    responses: list = field(default_factory=list)
    delay_seconds: float = 0.0
    received: list = field(default_factory=list)
    accepted: list = field(default_factory=list)  # the messages "Twilio" accepted
    calls: list = field(default_factory=list)     # the calls "Twilio" placed, with their TwiML
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0  # how many requests it was answering at once, at most

    def start(self) -> "TwilioStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as at Twilio: a connection per message would cost more
            disable_nagle_algorithm = True  # headers and body go in two writes: Nagle would hold the body 40 ms

            def log_message(self, *args):
                pass

            def _auth(self):
                header = self.headers.get("Authorization", "")
                if not header.startswith("Basic "):
                    return None
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                return user, password

            def _reply(self, status: int, payload: dict):
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client died waiting (the crash test kills it on purpose)

            def do_POST(self):
                with stub.lock:
                    stub.in_flight += 1
                    stub.most_in_flight = max(stub.most_in_flight, stub.in_flight)
                try:
                    self._post()
                finally:
                    with stub.lock:
                        stub.in_flight -= 1

            def _post(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with stub.lock:
                    stub.received.append(Received("POST", self.path, form, self._auth()))
                    scripted = stub.responses.pop(0) if stub.responses else None
                status, payload = scripted or (201, None)
                if status == 201 and self.path.endswith("/Calls.json"):
                    payload = {"sid": "CA" + secrets.token_hex(16), "to": form.get("To"), "from": form.get("From"),
                               "status": "queued", "date_created": "Mon, 01 Mar 2027 08:00:00 +0000"}
                    with stub.lock:
                        stub.calls.append({**payload, "twiml": form.get("Twiml"),
                                           "status_callback": form.get("StatusCallback")})
                elif status == 201:
                    payload = {"sid": "SM" + secrets.token_hex(16), "to": form.get("To"), "body": form.get("Body"),
                               "status": "queued", "date_created": "Mon, 01 Mar 2027 08:00:00 +0000"}
                    with stub.lock:
                        stub.accepted.append(payload)
                if stub.delay_seconds:
                    time.sleep(stub.delay_seconds)
                self._reply(status, payload)

            def do_GET(self):
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path.endswith("/Calls.json"):
                    with stub.lock:
                        stub.received.append(Received("GET", self.path, query, self._auth()))
                        calls = [c for c in stub.calls if c["to"] == query.get("To", c["to"])]
                    self._reply(200, {"calls": calls, "next_page_uri": None, "previous_page_uri": None,
                                      "first_page_uri": url.path, "uri": url.path, "page": 0, "page_size": 20,
                                      "start": 0, "end": len(calls)})
                    return
                with stub.lock:
                    stub.received.append(Received("GET", self.path, query, self._auth()))
                    messages = [m for m in stub.accepted if m["to"] == query.get("To", m["to"])]
                self._reply(200, {"messages": messages, "next_page_uri": None, "previous_page_uri": None,
                                  "first_page_uri": url.path, "uri": url.path, "page": 0, "page_size": 50,
                                  "start": 0, "end": len(messages)})

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a dispatcher opens dozens of connections at once, as at Twilio
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if getattr(self, "stopped", False):
            return
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()

    def posts(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == "POST"]
