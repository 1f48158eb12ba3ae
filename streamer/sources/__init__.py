"""Sources: bytes in. Each yields raw payload lines in chunks and knows nothing of their
formats (only streamer.ingest parses). `base` has the chunk types, `factory` builds the source a
configuration names."""
