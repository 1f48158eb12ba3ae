"""Shared ground: the records that cross process boundaries, logging, latency histograms, the
Redis URL forms. Imports nothing else of streamer."""
