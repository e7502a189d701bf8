#!/usr/bin/env python3
"""A Roomcast client for services, in Python with the standard library only.

    python3 roomcast_example.py --key KEY post lobby "deploy finished"
    python3 roomcast_example.py history lobby
    python3 roomcast_example.py follow lobby --since 1732300000000-0 --count 10

`post` sends a message with an API key (one of the server's API_KEYS) and prints its ID;
`history` pages back through a room's kept history and prints every message, oldest first;
`follow` opens the room's WebSocket with `since`, so it first gets every message after that
ID, then live ones, with no gap and no duplicate; it prints each as a JSON line.

The server is --url, else ROOMCAST_URL, else http://127.0.0.1:$PORT (PORT defaults to 8000).
The standard library has no WebSocket client, so a minimal one (RFC 6455: the handshake, text
frames, ping/pong, close; no extensions) is below; a real service may prefer `websockets`.
"""

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

SUBPROTOCOL = "roomcast.v1"
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PAGE_MAX = 200


class RoomcastError(Exception):
    """A refusal from the server: its HTTP status and error code, with its sentence."""

    def __init__(self, status, code, message):
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status = status
        self.code = code


def default_url():
    url = os.environ.get("ROOMCAST_URL", "").strip()
    if url:
        return url
    return f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or '8000'}"


def request(method, url, body=None, key=None, headers=None):
    """One HTTP request; returns the parsed JSON answer, or raises RoomcastError."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read().decode("utf-8"))
        except ValueError:
            answer = {"error": error.reason, "code": "unknown"}
        raise RoomcastError(error.code, answer.get("code"), answer.get("error")) from None


def post(base, key, room, text, idempotency_key=None):
    """Posts `text` to `room`; returns the stored message once it is stored and fanned out.

    With an `idempotency_key`, sending the same request again (after a time-out, say) stores it
    once and answers the first result: retry with the same key and nothing is doubled.
    """
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    path = f"/rooms/{urllib.parse.quote(room)}/messages"
    return request("POST", base + path, {"message": text}, key=key, headers=headers)


def history(base, room, key=None, page_size=50):
    """Every kept message of `room`, oldest first, read page by page backwards with `before`."""
    pages = []
    before = None
    while True:
        query = {"limit": str(page_size)}
        if before is not None:
            query["before"] = before
        path = f"/rooms/{urllib.parse.quote(room)}/messages?{urllib.parse.urlencode(query)}"
        page = request("GET", base + path, key=key)
        pages.insert(0, page["messages"])
        if not page["hasMore"] or not page["messages"]:
            return [message for messages in pages for message in messages]
        before = page["messages"][0]["id"]


class RoomSocket:
    """A room's WebSocket: `frames()` yields every frame the server sends, as a dict."""

    def __init__(self, base, room, since=None, key=None, timeout=30):
        url = urllib.parse.urlsplit(base)
        if url.scheme != "http":
            raise ValueError("this small client speaks plain ws:// only; use a TLS-capable library for https")
        host, port = url.hostname, url.port or 80
        path = f"/ws/chat/{urllib.parse.quote(room)}/"
        if since is not None:
            path += "?" + urllib.parse.urlencode({"since": since})
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        nonce = base64.b64encode(os.urandom(16)).decode("ascii")
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {nonce}",
            "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Protocol: {SUBPROTOCOL}",
        ]
        if key:
            lines.append(f"Authorization: Bearer {key}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        status, headers, rest = self._read_head()
        if status != 101:
            try:
                answer = json.loads(rest.decode("utf-8"))
            except ValueError:
                answer = {"error": f"HTTP {status}", "code": "unknown"}
            self.sock.close()
            raise RoomcastError(status, answer.get("code"), answer.get("error"))
        expected = base64.b64encode(hashlib.sha1((nonce + WEBSOCKET_GUID).encode("ascii")).digest()).decode("ascii")
        if headers.get("sec-websocket-accept") != expected:
            self.sock.close()
            raise ConnectionError("the server's Sec-WebSocket-Accept does not match: not a WebSocket server")
        self.buffer = rest

    def _read_head(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection during the handshake")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 101:
            # A refusal has a JSON body: read it all (Content-Length says how long).
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
        return status, headers, rest

    def _read_exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode, payload):
        # A client masks every frame it sends (RFC 6455 section 5.3).
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, frame):
        """Sends one frame, e.g. {"type": "chat.message", "message": "hi", "nonce": "n1"}."""
        self._send_frame(0x1, json.dumps(frame).encode("utf-8"))

    def frames(self):
        """Yields each frame the server sends, as a dict, until it closes the socket."""
        message = b""
        while True:
            first, second = self._read_exactly(2)
            fin, opcode = first & 0x80, first & 0x0F
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exactly(8))
            payload = self._read_exactly(length)  # server frames are not masked
            if opcode == 0x9:  # ping: answer with the same payload
                self._send_frame(0xA, payload)
            elif opcode == 0x8:  # close: answer it, then stop
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self._send_frame(0x8, payload[:2])
                self.sock.close()
                self.close_code = code
                return
            elif opcode in (0x1, 0x0):  # text, or the continuation of one
                message += payload
                if fin:
                    yield json.loads(message.decode("utf-8"))
                    message = b""

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def follow(base, room, since=None, count=None, key=None):
    """Yields the room's chat messages: those after `since` first, then live ones."""
    socket_ = RoomSocket(base, room, since=since, key=key)
    print(f"(joined {room})", file=sys.stderr, flush=True)
    seen = 0
    try:
        for frame in socket_.frames():
            if frame.get("type") == "chat.message":
                yield frame
                seen += 1
                if count is not None and seen >= count:
                    return
            elif frame.get("type") == "recovered":
                note = "caught up" if frame["complete"] else "caught up, but some messages were already trimmed"
                print(f"({note}; now live)", file=sys.stderr, flush=True)
            elif frame.get("type") == "error":
                print(f"(refused: {frame['code']}: {frame['reason']})", file=sys.stderr, flush=True)
    finally:
        socket_.close()


def main(argv):
    parser = argparse.ArgumentParser(description="Post to, read and follow Roomcast rooms.")
    parser.add_argument("--url", default=default_url(), help="the server (default: ROOMCAST_URL, else http://127.0.0.1:$PORT)")
    parser.add_argument("--key", default=os.environ.get("ROOMCAST_KEY"), help="an API key of the server (default: ROOMCAST_KEY)")
    commands = parser.add_subparsers(dest="command", required=True)
    post_command = commands.add_parser("post", help="post a message")
    post_command.add_argument("room")
    post_command.add_argument("text")
    post_command.add_argument("--idempotency-key", help="retry-safe: the same key stores the message once")
    history_command = commands.add_parser("history", help="print a room's kept history, oldest first")
    history_command.add_argument("room")
    history_command.add_argument("--page-size", type=int, default=50, choices=range(1, PAGE_MAX + 1), metavar="1-200")
    follow_command = commands.add_parser("follow", help="print a room's messages as they come")
    follow_command.add_argument("room")
    follow_command.add_argument("--since", help="first print every message after this ID")
    follow_command.add_argument("--count", type=int, help="stop after this many messages")
    args = parser.parse_args(argv)

    try:
        if args.command == "post":
            if not args.key:
                parser.error("post needs an API key: --key KEY or ROOMCAST_KEY")
            message = post(args.url, args.key, args.room, args.text, args.idempotency_key)
            print(f"sent to {message['room']} as {message['id']}")
        elif args.command == "history":
            for message in history(args.url, args.room, key=args.key, page_size=args.page_size):
                print(json.dumps(message, ensure_ascii=False))
        else:
            for message in follow(args.url, args.room, since=args.since, count=args.count, key=args.key):
                print(json.dumps(message, ensure_ascii=False), flush=True)
    except RoomcastError as error:
        print(f"roomcast: the server refused: {error}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError) as error:
        print(f"roomcast: could not reach {args.url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
