#!/usr/bin/env python3
"""Forward 127.0.0.1:<free port> of the calling (host) network namespace to HOST:PORT inside a
named network namespace, without any address or route in the host namespace.

    netns-forward.py NETNS HOST PORT PORTFILE

The listening socket is made first, in the host namespace; then this process joins NETNS
(setns(2), before any thread starts, so that every later thread is in it too) and each accepted
connection is relayed to HOST:PORT there. The chosen port is written to PORTFILE once listening.
"""
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def relay(client: socket.socket, host: str, port: int) -> None:
    try:
        upstream = socket.create_connection((host, port), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main() -> None:
    netns, host, port, portfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)

    fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        sys.exit(f"setns {netns}: {os.strerror(err)}")
    os.close(fd)

    tmp = f"{portfile}.tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    os.rename(tmp, portfile)

    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client, host, port), daemon=True).start()


if __name__ == "__main__":
    main()
