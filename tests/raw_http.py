"""HTTP/1.1 over a raw socket, for the tests that compare servers byte for byte
(test_serve_http.py, test_serve_front.py): what a client library would hide,
pipelining and partial writes included."""
import re
import socket


def address(server):
    """(host, port) of a launched matx-serve."""
    host, port = server.address.replace("http://", "").rsplit(":", 1)
    return host, int(port)


def exchange(server, raw: bytes, responses: int = 1, timeout: float = 30) -> bytes:
    """Sends raw bytes, reads until `responses` complete responses (or the
    server closes the connection); the bytes read."""
    with socket.create_connection(address(server), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        while complete(data) < responses:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def complete(data: bytes) -> int:
    """How many complete responses (Content-Length framed) data holds; a 100
    Continue counts for nothing."""
    n, pos = 0, 0
    while True:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return n
        head = data[pos:end].decode("latin-1")
        if head.startswith("HTTP/1.1 100"):
            pos = end + 4
            continue
        m = re.search(r"(?im)^content-length: *(\d+)", head)
        size = int(m.group(1)) if m else 0
        if len(data) < end + 4 + size:
            return n
        pos = end + 4 + size
        n += 1


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body
