"""The `econfacts` command: serve, db upgrade, seed."""

import atexit
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.auth.models import Scope
from app.config import get_settings

cli = typer.Typer(
    help="econfacts: sourced, versioned facts about economic relations.", no_args_is_help=True
)
db_cli = typer.Typer(help="Database schema commands.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


class LogFormat(StrEnum):
    auto = "auto"
    json = "json"
    text = "text"


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: ECONFACTS_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: ECONFACTS_PORT or 8000.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes. Default: ECONFACTS_WORKERS, else the CPU count when "
            "ECONFACTS_ENVIRONMENT=production and 1 otherwise.",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            help="json, text, or auto (text at a terminal, JSON otherwise). "
            "Default: ECONFACTS_LOG_FORMAT or auto."
        ),
    ] = None,
) -> None:
    """Serve the API with uvicorn, in one process or several workers on one port."""
    import uvicorn

    from app.observability import log_format as resolve_log_format
    from app.observability import uvicorn_log_config

    settings = get_settings()
    problems = settings.production_problems()
    if problems:
        typer.echo("refusing to start in production: " + "; ".join(problems), err=True)
        raise typer.Exit(1)
    fmt = resolve_log_format(log_format.value if log_format else settings.log_format)
    os.environ["ECONFACTS_LOG_FORMAT"] = fmt  # the app and every worker log alike
    host = host or settings.host
    port = settings.port if port is None else port
    count = workers or settings.worker_count()
    taken = _cannot_listen(host, port)
    if taken:
        typer.echo(taken, err=True)
        raise typer.Exit(EXIT_CANNOT_LISTEN)
    if count > 1:
        _multiprocess_metrics()
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=count,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(fmt, settings.log_level),
        proxy_headers=True,
        timeout_keep_alive=settings.keep_alive_s,
        access_log=False,  # the app writes its own access line, with the request id
        timeout_graceful_shutdown=30,  # on SIGTERM, let requests in flight finish
    )


EXIT_CANNOT_LISTEN = 1


def _cannot_listen(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (taken, not ours...), or None if it can.

    Tried the way uvicorn binds (SO_REUSEADDR), then released for uvicorn to take.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"error: cannot listen on {host}:{port}: the port is already in use "
                    "(another econfacts serve, or another program, is listening there). "
                    f"Stop it, or choose another port: econfacts serve --port {port + 1}"
                )
            if exc.errno == errno.EACCES:
                return (
                    f"error: cannot listen on {host}:{port}: permission denied (ports below "
                    f"1024 need privileges). Choose another port: econfacts serve --port 8000"
                )
            return (
                f"error: cannot listen on {host}:{port}: {exc.strerror or exc}. "
                "Check --host, or choose another port with --port."
            )
    return None


def _multiprocess_metrics() -> None:
    """Several workers: prometheus-client's multiprocess mode, in a folder emptied now (what
    an earlier run left there would be counted again). The workers inherit the variable."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return
    made = tempfile.mkdtemp(prefix="econfacts-metrics-")
    atexit.register(shutil.rmtree, made, True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database schema (creates the SQLite file if needed)."""
    from app.db import make_engine
    from app.db.migrate import upgrade

    settings = get_settings()
    make_engine(settings).dispose()  # creates the SQLite file's folder
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Migrate the schema down to an older revision."""
    from app.db.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_cli.command("backup")
def db_backup(path: Annotated[Path, typer.Argument(help="Where to write the copy.")]) -> None:
    """Copy the SQLite database consistently while it serves (SQLite's online backup).

    For PostgreSQL use pg_dump, e.g. `pg_dump --format=custom --file=econfacts.dump DBNAME`,
    and pg_restore to restore it.
    """
    from app.backup import BackupError, backup

    try:
        pages = backup(get_settings(), path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up {pages} pages to {path}")


@db_cli.command("restore")
def db_restore(path: Annotated[Path, typer.Argument(help="A file made by `db backup`.")]) -> None:
    """Replace the SQLite database with a backup, after checking the backup's integrity.

    Stop the server first: clients connected during a restore see the old data vanish.
    """
    from app.backup import BackupError, restore

    try:
        restore(get_settings(), path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored the database from {path}")


@cli.command()
def seed(
    corpus: Annotated[
        bool,
        typer.Option(
            help="Also load the annotated corpus of real articles (tests/data/corpus), "
            "where this checkout has it."
        ),
    ] = True,
) -> None:
    """Load the curated seed articles and their facts; running it again changes nothing."""
    from app.db import begin_write, make_engine
    from app.seed.loader import CORPUS_DIR, SeedError, SeedReport, load_seed

    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            begin_write(session)
            report = load_seed(session)
            if corpus and CORPUS_DIR.is_dir():
                more: SeedReport = load_seed(session, CORPUS_DIR)
                report.created.update(more.created)
                report.unchanged.update(more.unchanged)
            session.commit()
    except SeedError as exc:
        typer.echo(f"seed refused, nothing written: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for kind in sorted(set(report.created) | set(report.unchanged)):
        typer.echo(
            f"{kind}: {report.created.get(kind, 0)} created, "
            f"{report.unchanged.get(kind, 0)} already present"
        )


@cli.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Text files, or folders of .txt files.")],
    outlet: Annotated[str, typer.Option(help="Entity id of the outlet, e.g. trend.")],
    published: Annotated[str, typer.Option(help="Publication date, YYYY-MM-DD.")],
    language: Annotated[str, typer.Option(help="BCP 47 language tag.")] = "en",
    dateline: Annotated[str | None, typer.Option(help="Dateline, e.g. Baku.")] = None,
    actor: Annotated[str, typer.Option(help="Recorded as the author of the drafts.")] = "cli",
) -> None:
    """Store articles and their extracted draft candidates (same as POST /v1/sources)."""
    from pydantic import ValidationError

    from app.errors import ProblemError
    from app.ingestion.pipeline import ingest as run_ingest
    from app.sources.schemas import SourceCreate

    files = sorted(
        f for p in paths for f in ([p] if p.is_file() else p.rglob("*.txt")) if f.is_file()
    )
    if not files:
        typer.echo("error: no files to ingest", err=True)
        raise typer.Exit(1)
    failed = 0
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            body = SourceCreate(
                outlet=outlet,
                title=text.strip().splitlines()[0][:200] if text.strip() else path.stem,
                published=published,
                dateline=dateline,
                language=language,
                text=text,
            )
            with _write_session() as session:
                result = run_ingest(session, body=body, actor=actor)
                session.commit()
                source_id = result.source.id
        except (UnicodeDecodeError, ValidationError, ProblemError) as exc:
            failed += 1
            typer.echo(f"{path}: refused: {getattr(exc, 'detail', exc)}", err=True)
            continue
        state = "stored" if result.created else "already stored"
        typer.echo(
            f"{path}: {state} as {source_id}: {len(result.facts)} draft facts, "
            f"{len(result.quotes)} draft quotes, {len(result.skipped)} skipped"
        )
    if failed:
        raise typer.Exit(1)


@cli.command("eval-extraction")
def eval_extraction(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Annotated .yaml files or folders; default: the seed + the corpus."),
    ] = None,
    per_article: Annotated[bool, typer.Option(help="Also print a table per article.")] = False,
    parser: Annotated[
        bool, typer.Option(help="Use the statistical parse (--no-parser: rules alone).")
    ] = True,
    calibrate: Annotated[
        bool,
        typer.Option(help="Write app/ingestion/calibration.json from the dev split's results."),
    ] = False,
) -> None:
    """Print recall and precision of fully right facts and of quotes with their speaker, per
    split (dev, test) and kind, and a reliability table (confidence -> observed precision)."""
    import json

    from app.ingestion.calibration import CALIBRATION_FILE
    from app.ingestion.evaluation import calibration, report
    from app.seed.loader import CORPUS_DIR, DATA_DIR

    roots = paths or [DATA_DIR, CORPUS_DIR]
    files = sorted(f for p in roots for f in ([p] if p.is_file() else p.glob("*.yaml")))
    text, scores = report(files, parser=parser, per_article=per_article)
    typer.echo(text)
    if calibrate:
        if "dev" not in scores:
            typer.echo("error: no dev articles to calibrate on", err=True)
            raise typer.Exit(1)
        CALIBRATION_FILE.write_text(
            json.dumps(calibration(scores["dev"]), indent=2) + "\n", encoding="utf-8"
        )
        typer.echo(f"wrote {CALIBRATION_FILE}", err=True)


@keys_cli.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who uses the key; recorded as the actor of writes.")],
    scope: Annotated[Scope, typer.Option(help="read, write or admin.")] = Scope.read,
) -> None:
    """Create a key and print it once, alone on the last line (it is stored only hashed)."""
    from app.auth.service import create_key

    with _write_session() as session:
        try:
            key = create_key(session, name=name, scope=scope)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        session.commit()
    typer.echo(
        f"created key '{name}' with scope {scope.value}; store it now, it is not shown again:",
        err=True,
    )
    typer.echo(key)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: name, scope, public prefix, created, revoked (never the key itself)."""
    from app.auth.service import list_keys

    with _write_session() as session:
        for key in list_keys(session):
            revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
            typer.echo(
                f"{key.name}\t{key.scope}\tef_{key.prefix}_…\t{key.created_at.isoformat()}\t{revoked}"
            )


@keys_cli.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from app.auth.service import revoke_key

    with _write_session() as session:
        if not revoke_key(session, name=name):
            typer.echo(f"error: no active key named {name!r}", err=True)
            raise typer.Exit(1)
        session.commit()
    typer.echo(f"revoked key '{name}'")


@contextmanager
def _write_session() -> Iterator[Session]:
    from app.db import begin_write, make_engine

    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            begin_write(session)
            yield session
    finally:
        engine.dispose()


def main() -> None:
    cli()
