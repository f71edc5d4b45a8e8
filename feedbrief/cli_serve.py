"""The ``feedbrief serve`` command, mounted on the main app by ``register``."""

from pathlib import Path
from typing import Annotated

import typer

from feedbrief.cli_common import ConfigOption, LogLevel, err, open_app


def serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port; 0 picks a free one.")
    ] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
    metrics_dir: Annotated[
        Path | None,
        typer.Option(help="Where the workers write metrics (default: the metrics.dir setting)."),
    ] = None,
    config: ConfigOption = None,
    log_level: LogLevel = "INFO",
) -> None:
    """Serve the digests, feed.xml, /healthz and /metrics over HTTP until stopped."""
    # Imported here so that other commands do not pay for the server and the exposition.
    from feedbrief.scrape import scrape_registry
    from feedbrief.serve import serve_until_stopped, server_for

    with open_app(config, log_level) as application:
        settings = application.settings
        registry = scrape_registry(metrics_dir or settings.metrics.dir, application.storage)
        try:
            server = server_for(
                settings.digest.dir,
                application.storage,
                registry,
                host=host,
                port=port,
                clock=application.clock,
            )
        except OSError as exc:
            err.print(f"cannot listen on {host}:{port}: {exc.strerror}", markup=False)
            raise typer.Exit(1) from exc
        serve_until_stopped(server, application.stop)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to *app* (called at the end of ``feedbrief.cli``)."""
    app.command()(serve)
