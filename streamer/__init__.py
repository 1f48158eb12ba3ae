"""tweetheat: tail a sample stream, sort posts by language, keep tags and points in Redis."""

__version__ = "0.1.0"
