"""``python -m maestro.sim serve [options]`` (see :mod:`maestro.sim.cli`)."""

from __future__ import annotations

import sys

from maestro.sim.cli import serve_main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "serve":
        print("usage: python -m maestro.sim serve [--host H] [--port P] [--time-factor F] [--import MODULE]... [--ready-file PATH] [--log-requests FILE]", file=sys.stderr)
        return 2
    return serve_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
