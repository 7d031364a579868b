"""The example's data stores, by host port."""

import socket

import pytest


@pytest.mark.real_services("redis")
def test_redis_ping(netra_env):
    with socket.create_connection((netra_env.host, netra_env.port("redis")), timeout=5) as conn:
        conn.sendall(b"PING\r\n")
        assert conn.recv(64).startswith(b"+PONG")


@pytest.mark.smoke
@pytest.mark.real_services("postgres")
def test_postgres_accepts_connections(netra_ports):
    socket.create_connection(("127.0.0.1", netra_ports["postgres"]), timeout=5).close()
