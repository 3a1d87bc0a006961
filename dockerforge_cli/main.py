"""Entry point of the `dockerforge` console script. The commands arrive with the CLI issue;
until then it reports its version and says so."""

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version


def client_version() -> str:
    try:
        return version("dockerforge")
    except PackageNotFoundError:
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dockerforge", description="DockerForge command-line client")
    parser.add_argument("--version", action="version", version=f"dockerforge {client_version()}")
    parser.parse_args(argv)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
