"""The running daemon: composition root (`daemon`), the pipeline's stages, metrics and status,
the analyst's schedule, health and HTTP, systemd, progress."""
