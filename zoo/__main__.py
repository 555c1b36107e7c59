"""``python -m zoo`` runs the CLI.

Example:
    python -m zoo list --modality text
"""

from zoo.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
