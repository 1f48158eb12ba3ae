"""Every Redis key tweetheat uses, in one place. Nothing else builds key names.

{prefix}hashtag_{lang}   list   lower-cased hashtags, oldest first, capped (LTRIM)
{prefix}geo_{lang}       list   points as JSON "[lat, lon, t, source, precision_km]", t the commit
                                time in whole Unix seconds, source one of "exact" (the post's
                                own geotag), "place", "profile", "bio" (inferred: see
                                streamer.ingest.geolocate), precision_km how far off it may be
                                (0 for exact); older entries "[lat, lon, t]" and "[lat, lon]"
                                are exact points; oldest first, capped
{prefix}stats:{lang}     hash   running totals: tweets, geo, hashtags, and geo:<source> (located
                                posts by source; geo beyond their sum predates them: exact)
{prefix}languages        set    every language code seen
{prefix}pipeline         hash   pipeline counters: accepted, skipped:<reason>, ...
{prefix}daemon           hash   the latest heartbeat of any daemon (pid, rates, queue depths)
{prefix}daemon:{id}      hash   an ingest instance's own heartbeat, expires a week after its last
{prefix}daemons          set    the instances that wrote a heartbeat (pruned as theirs expire)
{prefix}checkpoint:{id} hash   an ingest instance's last committed batch: seq, position, updated_at
{prefix}seen:{post id}   string a resumable source's recent post, so a replayed one counts once
{prefix}users            hash   user id -> JSON [screen name, bio, lang, last seen]
{prefix}users:seen       zset   user id scored by last-seen time: the bounded recent-user window
{prefix}user_cluster     hash   user id -> "kmeans,hdbscan" cluster ids from the latest model
{prefix}profile:{did}    string a Bluesky author's looked-up profile, JSON [handle, display name,
                                bio], "-" for a DID the AppView does not know, "?" while a lookup
                                is under way; expires after [sources.jetstream] profile_ttl_hours
# --- trends (event-time hashtag counts, docs/trends.md) ---
{prefix}trend:{lang}:{bucket}     zset  tag -> count in that event-time bucket (Unix s of its
                                        start), capped to `[trends] top_k` members
{prefix}trend:{lang}:{bucket}:n   hash  posts, evicted (count mass the cap dropped), evicted_max
{prefix}trend:{lang}:buckets      zset  bucket -> bucket: the language's retained buckets
{prefix}trend:{lang}:points:{tag} list  "[lat, lon, t]" of the newest posts carrying the tag,
                                        LTRIM-capped to `[trends] tag_points`, TTL retention
{prefix}trend:{lang}:pointtags    zset  tag -> when its point list last grew; capped to
                                        `[trends] point_tags` lists (least recent deleted)
{prefix}trend:langs               set   languages with trend data
{prefix}trend:clock               hash  ingest instance -> newest bucket committed (the event
                                        clock; a restart continues from it)
# --- end trends ---

On a Redis Cluster (`Keys(prefix, cluster=True)`, a `redis+cluster://` URL) keys that one Lua
script touches together share a hash tag, the part of the name in literal braces, so they live
in one slot. Shown for prefix "tweetheat:", language "en", ingest instance "ingest-1":

tweetheat:hashtag_{en}  tweetheat:geo_{en}  tweetheat:stats:{en}  tweetheat:seen:{en}:<post id>
tweetheat:checkpoint:ingest-1:{en}   hash  seq (and duplicates) of the instance's last batch
                                           that touched the language: one chain per slot
tweetheat:checkpoint:{ingest-1}      hash  seq, position, updated_at of the instance's last
                                           fully committed batch
tweetheat:pipeline:{ingest-1}        hash  the instance's pipeline counters
tweetheat:instances                  set   every instance that committed: readers sum the
                                           counters of pipeline:{<instance>} over it
tweetheat:{users}  tweetheat:{users}:seen  tweetheat:{users}:cluster   the user window, one slot
tweetheat:trend:{en}:<bucket>  tweetheat:trend:{en}:<bucket>:n  tweetheat:trend:{en}:buckets
tweetheat:trend:{en}:points:<tag>  tweetheat:trend:{en}:clock   the language's trend keys, and
                                   its own event clock (hash: instance -> newest bucket)
tweetheat:languages, tweetheat:daemon, tweetheat:daemon:<id>, tweetheat:daemons: as above
(single keys, any slot)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "tweetheat:"
    cluster: bool = False  # hash-tagged names for a Redis Cluster

    def __post_init__(self) -> None:
        if self.cluster and ("{" in self.prefix or "}" in self.prefix):
            # A brace in the prefix would become the hash tag of every key: one slot for all.
            raise ValueError("redis.key_prefix: no '{' or '}' on a Redis Cluster")

    def _tagged(self, name: str, tag: str) -> str:
        """`{prefix}{name}`, with `tag` as its hash tag on a cluster."""
        if not tag:
            raise ValueError(f"an empty hash tag for {name!r}")
        return f"{self.prefix}{name}{{{tag}}}"

    def hashtags(self, lang: str) -> str:
        if self.cluster:
            return self._tagged("hashtag_", lang)
        return f"{self.prefix}hashtag_{lang}"

    def geo(self, lang: str) -> str:
        if self.cluster:
            return self._tagged("geo_", lang)
        return f"{self.prefix}geo_{lang}"

    def stats(self, lang: str) -> str:
        if self.cluster:
            return self._tagged("stats:", lang)
        return f"{self.prefix}stats:{lang}"

    @property
    def languages(self) -> str:
        return f"{self.prefix}languages"

    @property
    def pipeline(self) -> str:
        """The single-Redis counters hash (on a cluster, see `instance_pipeline`)."""
        return f"{self.prefix}pipeline"

    def instance_pipeline(self, instance: str) -> str:
        """Where an instance's commits add their pipeline counters: the shared hash on one
        Redis, the instance's own (in its slot) on a cluster."""
        if self.cluster:
            return self._tagged("pipeline:", instance)
        return self.pipeline

    @property
    def instances(self) -> str:
        return f"{self.prefix}instances"

    @property
    def daemon(self) -> str:
        return f"{self.prefix}daemon"

    def instance_daemon(self, instance: str) -> str:
        """One ingest instance's heartbeat: several ingest daemons may share one Redis."""
        return f"{self.prefix}daemon:{instance}"

    @property
    def daemons(self) -> str:
        return f"{self.prefix}daemons"

    def checkpoint(self, instance: str) -> str:
        if self.cluster:
            return self._tagged("checkpoint:", instance)
        return f"{self.prefix}checkpoint:{instance}"

    def lang_checkpoint(self, instance: str, lang: str) -> str:
        """A cluster's per-(instance, language) checkpoint, in the language's slot."""
        return self._tagged(f"checkpoint:{instance}:", lang)

    def seen(self, post_id: str) -> str:
        return f"{self.prefix}seen:{post_id}"

    def lang_seen(self, lang: str, post_id: str) -> str:
        """A cluster's de-duplication key, in the language's slot."""
        return self._tagged("seen:", lang) + f":{post_id}"

    def profile(self, did: str) -> str:
        """A Bluesky author's cached profile (streamer.storage.profile_cache)."""
        return f"{self.prefix}profile:{did}"

    @property
    def users(self) -> str:
        return f"{self.prefix}{{users}}" if self.cluster else f"{self.prefix}users"

    @property
    def users_seen(self) -> str:
        return f"{self.prefix}{{users}}:seen" if self.cluster else f"{self.prefix}users:seen"

    @property
    def user_cluster(self) -> str:
        return f"{self.prefix}{{users}}:cluster" if self.cluster else f"{self.prefix}user_cluster"

    # --- trends (docs/trends.md): one language's keys share its hash tag on a cluster ---

    def _trend_lang(self, lang: str) -> str:
        return f"{{{lang}}}" if self.cluster else lang

    def trend_counts(self, lang: str, bucket: int) -> str:
        return f"{self.prefix}trend:{self._trend_lang(lang)}:{bucket}"

    def trend_meta(self, lang: str, bucket: int) -> str:
        return f"{self.prefix}trend:{self._trend_lang(lang)}:{bucket}:n"

    def trend_buckets(self, lang: str) -> str:
        return f"{self.prefix}trend:{self._trend_lang(lang)}:buckets"

    def trend_lang_prefix(self, lang: str) -> str:
        """What the commit scripts append a bucket (or "buckets", "points:<tag>") to."""
        return f"{self.prefix}trend:{self._trend_lang(lang)}:"

    def trend_points(self, lang: str, tag: str) -> str:
        return f"{self.trend_lang_prefix(lang)}points:{tag}"

    def trend_point_tags(self, lang: str) -> str:
        return f"{self.trend_lang_prefix(lang)}pointtags"

    @property
    def trend_langs(self) -> str:
        return f"{self.prefix}trend:langs"

    @property
    def trend_clock(self) -> str:
        """Single Redis: instance -> newest bucket (the event clock of each ingest instance)."""
        return f"{self.prefix}trend:clock"

    def trend_lang_clock(self, lang: str) -> str:
        """Redis Cluster: the language's own clock (instance -> newest bucket), in its slot."""
        return f"{self.trend_lang_prefix(lang)}clock"
