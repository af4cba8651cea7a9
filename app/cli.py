"""The `econfacts` command: serve, db upgrade, seed."""

from collections.abc import Iterator
from contextlib import contextmanager
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


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: ECONFACTS_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: ECONFACTS_PORT or 8000.")] = None,
    workers: Annotated[int | None, typer.Option(help="Default: ECONFACTS_WORKERS or 1.")] = None,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database schema (creates the SQLite file if needed)."""
    from app.db import make_engine
    from app.migrations import upgrade

    settings = get_settings()
    make_engine(settings).dispose()  # creates the SQLite file's folder
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. base or -1.")]) -> None:
    """Migrate the schema down to an older revision."""
    from app.migrations import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
def seed() -> None:
    """Load the curated seed articles and their facts; running it again changes nothing."""
    from app.db import begin_write, make_engine
    from app.seed.loader import SeedError, load_seed

    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
            begin_write(session)
            report = load_seed(session)
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
