"""The `econfacts` command: serve, db upgrade, seed."""

from typing import Annotated

import typer
from sqlmodel import Session

from app.config import get_settings

cli = typer.Typer(
    help="econfacts: sourced, versioned facts about economic relations.", no_args_is_help=True
)
db_cli = typer.Typer(help="Database schema commands.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


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
    from app.db import make_engine
    from app.seed.loader import SeedError, load_seed

    engine = make_engine(get_settings())
    try:
        with Session(engine) as session:
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


def main() -> None:
    cli()
