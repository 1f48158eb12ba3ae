"""Pure CPU work on lines, run in the pool processes: parse a payload, find its hashtags, detect
its language, pack a batch for Redis. Knows nothing of Redis or sockets."""
