"""Every Redis key tweetheat uses, in one place. Nothing else builds key names.

{prefix}hashtag_{lang}   list   lower-cased hashtags, oldest first, capped (LTRIM)
{prefix}geo_{lang}       list   points as JSON "[lat, lon, t]", t the commit time in whole Unix
                                seconds (older entries: "[lat, lon]"), oldest first, capped
{prefix}stats:{lang}     hash   running totals: tweets, geo, hashtags
{prefix}languages        set    every language code seen
{prefix}pipeline         hash   pipeline counters: accepted, skipped:<reason>, ...
{prefix}daemon           hash   the running daemon's heartbeat (pid, rates, queue depths)
{prefix}checkpoint:{id} hash   an ingest instance's last committed batch: seq, position, updated_at
{prefix}seen:{post id}   string a resumable source's recent post, so a replayed one counts once
{prefix}users            hash   user id -> JSON [screen name, bio, lang, last seen]
{prefix}users:seen       zset   user id scored by last-seen time: the bounded recent-user window
{prefix}user_cluster     hash   user id -> "kmeans,hdbscan" cluster ids from the latest model
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "tweetheat:"

    def hashtags(self, lang: str) -> str:
        return f"{self.prefix}hashtag_{lang}"

    def geo(self, lang: str) -> str:
        return f"{self.prefix}geo_{lang}"

    def stats(self, lang: str) -> str:
        return f"{self.prefix}stats:{lang}"

    @property
    def languages(self) -> str:
        return f"{self.prefix}languages"

    @property
    def pipeline(self) -> str:
        return f"{self.prefix}pipeline"

    @property
    def daemon(self) -> str:
        return f"{self.prefix}daemon"

    def checkpoint(self, instance: str) -> str:
        return f"{self.prefix}checkpoint:{instance}"

    def seen(self, post_id: str) -> str:
        return f"{self.prefix}seen:{post_id}"

    @property
    def users(self) -> str:
        return f"{self.prefix}users"

    @property
    def users_seen(self) -> str:
        return f"{self.prefix}users:seen"

    @property
    def user_cluster(self) -> str:
        return f"{self.prefix}user_cluster"
