"""The example's auth service (port 8081)."""

import netra_service

VERSION = "1.0.0"

if __name__ == "__main__":
    netra_service.serve("auth", VERSION, port=8081)
