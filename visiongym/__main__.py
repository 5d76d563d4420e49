"""``python -m visiongym``: the same as the ``visiongym`` command."""

from visiongym.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
