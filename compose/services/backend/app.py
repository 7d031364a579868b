"""The example's backend API (port 8000)."""

import netra_service

VERSION = "1.0.0"


def version():
    return 200, {"service": "backend", "version": VERSION}


if __name__ == "__main__":
    netra_service.serve("backend", VERSION, port=8000, routes={"/version": version})
