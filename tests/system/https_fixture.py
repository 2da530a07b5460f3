#!/usr/bin/python3
"""An HTTPS server on 127.0.0.1 for the inputs-by-reference tests (inputs_by_reference_test).

    https_fixture.py --cert server.crt --key server.key --dir DIR --port-file FILE

Serves the files of DIR (the query string is ignored, as a presigned URL's signature would be
checked elsewhere) and paths that misbehave:

    /files/NAME            the file DIR/NAME (NAME may hold '/'), with its Content-Length
    /redirect-https/NAME   302 to https://127.0.0.1:PORT/files/NAME
    /redirect-http/NAME    302 to http://127.0.0.1:PORT/files/NAME (must be refused)
    /redirect-loop/N       302 to itself, forever
    /slow/NAME             headers, then one byte and nothing more for an hour (a stall)
    /short/NAME            claims 100 bytes more than the file has, sends the file and closes
    /nolength/NAME         no Content-Length: the file, then the file again, then closes
    /status/CODE           that HTTP status with a short body
"""
import argparse
import http.server
import os
import ssl
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test prints what it needs
        pass

    def _body(self, name):
        root = os.path.realpath(self.server.files_dir)
        full = os.path.realpath(os.path.join(root, urllib.parse.unquote(name)))
        if not full.startswith(root + os.sep):
            raise FileNotFoundError(name)
        with open(full, "rb") as f:
            return f.read()

    def _send(self, code, body, length=None, headers=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        kind, _, name = path.lstrip("/").partition("/")
        port = self.server.server_address[1]
        try:
            if kind == "files":
                self._send(200, self._body(name))
            elif kind in ("redirect-https", "redirect-http"):
                scheme = "https" if kind == "redirect-https" else "http"
                self._send(302, b"", headers=[
                    ("Location", "%s://127.0.0.1:%d/files/%s" % (scheme, port, name))])
            elif kind == "redirect-loop":
                self._send(302, b"", headers=[("Location", "/redirect-loop/" + name)])
            elif kind == "slow":
                body = self._body(name)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:1])
                self.wfile.flush()
                time.sleep(3600)
            elif kind == "short":
                body = self._body(name)
                self._send(200, body, length=len(body) + 100)
                self.close_connection = True
            elif kind == "nolength":
                body = self._body(name)
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body + body)
                self.close_connection = True
            elif kind == "status":
                self._send(int(name), b"no\n")
            else:
                self._send(404, b"not found\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except FileNotFoundError:
            self._send(404, b"not found\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.files_dir = args.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
