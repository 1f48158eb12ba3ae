"""Getting batches into Redis exactly once: the write-ahead journal and the committers (one for a
single Redis, one for a Redis Cluster) that share one commit protocol."""
