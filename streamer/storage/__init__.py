"""Everything that knows Redis: key names (`keys`), the store's read and write API (`store`), the
Lua commit scripts (`lua`), the single-Redis, cluster and embedded connections."""
