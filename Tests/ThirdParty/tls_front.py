#!/usr/bin/env python3
"""A minimal TLS front for the Salesforce sandbox (loopback only).

Terminates TLS with a test certificate and pipes the bytes, unchanged, to the sandbox's plain-HTTP
listener. It does not parse or rewrite HTTP: what the client sends is what the sandbox gets.

    tls_front.py --cert server.pem --key server.key --target 127.0.0.1:PORT [--port 0]

Prints `tls-front listening on https://127.0.0.1:PORT` as its first stdout line.
"""
import argparse
import asyncio
import ssl
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()
        except (OSError, RuntimeError):
            pass


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--target", required=True, help="HOST:PORT of the plain-HTTP sandbox")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    t_host, t_port = args.target.rsplit(":", 1)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)

    async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            u_reader, u_writer = await asyncio.wait_for(asyncio.open_connection(t_host, int(t_port)), 10)
        except (OSError, asyncio.TimeoutError):
            c_writer.close()
            return
        await asyncio.gather(pipe(c_reader, u_writer), pipe(u_reader, c_writer))
        for w in (u_writer, c_writer):
            try:
                w.close()
            except (OSError, RuntimeError):
                pass

    server = await asyncio.start_server(handle, args.host, args.port, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    print(f"tls-front listening on https://{args.host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
