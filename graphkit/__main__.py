"""``python -m graphkit`` (also under ``torchrun``) is the ``graphkit`` command."""
from graphkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
