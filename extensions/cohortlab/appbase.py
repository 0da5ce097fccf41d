"""The traitlets base every ``cohortlab`` command shares: config file, data folder, database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets import Unicode, default
from traitlets.config import Application

from ._version import __version__


class CohortLabApp(Application):
    version = __version__
    config_file = Unicode(
        "cohortlab_config.py",
        help="Python config file (traitlets), looked up in the current folder if relative.",
    ).tag(config=True)
    data_dir = Unicode(
        help="Folder for the service's own files (SQLite database, cookie secret). "
        "Keep it readable only by the service's account. Default $COHORTLAB_DATA_DIR or ./",
    ).tag(config=True)
    db_url = Unicode(
        help="SQLAlchemy URL of the database: sqlite:///<file> (default, in data_dir) or "
        "postgresql://user:password@host/db. Default $COHORTLAB_DB_URL.",
    ).tag(config=True)

    aliases = {
        "config": "CohortLabApp.config_file",
        "data-dir": "CohortLabApp.data_dir",
        "db-url": "CohortLabApp.db_url",
        "log-level": "Application.log_level",
    }

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.environ.get("COHORTLAB_DATA_DIR", os.getcwd())

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get("COHORTLAB_DB_URL") or (
            f"sqlite:///{Path(self.data_dir).resolve() / 'cohortlab.sqlite'}"
        )

    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        if self.subapp is not None:
            return
        if os.path.exists(self.config_file):
            self.load_config_file(self.config_file)
            # Command-line flags win over the file.
            self.update_config(self.cli_config)


class CommandGroup(Application):
    """A command made of subcommands (``cohortlab``, ``cohortlab quiz``, ...): without one,
    it shows its help and names them, and exits 2."""

    version = __version__

    def start(self) -> None:
        if self.subapp is None:
            self.print_help()
            print("Pick a subcommand: " + ", ".join(self.subcommands), file=sys.stderr)
            self.exit(2)
        self.subapp.start()
