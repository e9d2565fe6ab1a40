"""The shared ``sensorhub`` app: the typer application, consoles, global options and helpers.

Command modules (``ingest``, ``records``, ``report``, ``live``) import this module and add
their commands to :data:`app`; :mod:`sensorhub.cli` imports them all. Nothing here imports
a command module, so there is no import circle.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from ..config import Config, ConfigError, check_athlete_id, load_config
from ..delivery import DeliveryReport
from ..recompute import Recompute
from ..store import FlushReport, Journal, StoreError, open_journal
from ..store.redact import redact_url
from ..store.roster import refresh_athletes

# Help texts are plain text: brackets such as [[ble_devices]] must show as written.
app = typer.Typer(
    help="Running data from wearables into load monitoring.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
# Wide enough for the load table when piped (rich would fall back to 80 columns); no markup:
# paths and messages print as they are.
out = Console(width=None if sys.stdout.isatty() else 160, markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

ACWR_COLUMNS = {"acwr_rac", "acwr_rau", "acwr_ewma"}


class State:
    """Global options, the configuration (loaded once) and the journal (opened once)."""

    config_path: Path | None = None
    home: Path | None = None
    _cfg: Config | None = None
    _journal: Journal | None = None

    def config(self) -> Config:
        if self._cfg is None:
            try:
                self._cfg = load_config(self.config_path, self.home)
            except ConfigError as exc:
                fail(f"config: {exc}", code=2)
        return self._cfg

    def journal(self, finish_pending: bool = True) -> Journal:
        """The journal; first finishes recomputes a crashed run left pending."""
        if self._journal is None:
            cfg = self.config()
            try:
                self._journal = open_journal(cfg)
                refresh_athletes(cfg, self._journal)  # athletes stored in the journal too
                if finish_pending and self._journal.dirty():
                    Recompute(cfg, self._journal).pending()
            except StoreError as exc:
                fail(str(exc), code=2)
            except OSError as exc:
                fail(f"state dir {cfg.home}: {exc.strerror or exc}", code=2)
        return self._journal


state = State()


def fail(message: str, code: int = 1) -> None:
    """One line on stderr and exit ``code``."""
    err.print(message)
    raise typer.Exit(code)


def athlete_option(value: str | None) -> str | None:
    """A valid athlete id, case-normalised with a warning; exit 2 when not valid."""
    if value is None:
        return None
    try:
        norm = check_athlete_id(value)
    except ConfigError as exc:
        fail(str(exc), code=2)
    if norm != value:
        err.print(f"athlete {value!r} taken as {norm!r} (ids are lower-case)")
    return norm


def iso_time(value: str | None, option: str) -> pd.Timestamp | None:
    """An ISO 8601 time (UTC unless it names its offset); exit 2 on anything else."""
    if value is None:
        return None
    try:
        t = pd.Timestamp(value) if "T" in value or "-" in value else None
    except ValueError:
        t = None
    if t is None or pd.isna(t):
        fail(f"{option} {value!r}: give an ISO 8601 time such as 2026-10-28T22:30:00Z", 2)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _version(flag: bool) -> None:
    if flag:
        try:
            print(f"sensorhub {version('sensorhub')}")
        except PackageNotFoundError:
            print("sensorhub (not installed)")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[
        Path | None, typer.Option(help="Config file (TOML).", envvar="SENSORHUB_CONFIG")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="State dir (journal, outbox).", envvar="SENSORHUB_HOME")
    ] = None,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    state.config_path, state.home = config, home
    state._cfg = state._journal = None


def report_delivery(report: DeliveryReport | FlushReport | None, cfg: Config) -> None:
    """What shipping did: points sent, or what waits in the outbox and why."""
    flush = report.influx if isinstance(report, DeliveryReport) else report
    if flush is None:
        out.print("InfluxDB not configured: data kept in the local journal (sensorhub status).")
    elif flush.ok:
        out.print(f"InfluxDB: {flush.sent_points} points sent.")
    else:
        reason = flush.errors[-1] if flush.errors else "see sensorhub status"
        err.print(
            f"InfluxDB: {flush.sent_points} points sent, {flush.left_batches} batches waiting "
            f"in the outbox ({reason})."
        )


def influx_target(cfg: Config) -> str:
    """The InfluxDB URL and database as shown to a user (credentials removed)."""
    if not cfg.influx.enabled:
        return "(not configured)"
    return f"{redact_url(cfg.influx.url)} db={cfg.influx.database}"


def print_frame(df: pd.DataFrame, csv: bool, title: str, missing: dict[str, str] | None = None):
    """A rich table, or CSV on stdout (full precision). ``missing``: what an empty cell of a
    column reads (default "-")."""
    if csv:
        sys.stdout.write(df.to_csv(index=False))
        return
    table = Table(title=title)
    for c in df.columns:
        table.add_column(c, justify="right" if pd.api.types.is_numeric_dtype(df[c]) else "left")
    blanks = [(missing or {}).get(c, "-") for c in df.columns]
    for row in df.itertuples(index=False):
        table.add_row(*(cell(v, m) for v, m in zip(row, blanks, strict=True)))
    out.print(table)


def cell(v: object, missing: str = "-") -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return missing
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)
