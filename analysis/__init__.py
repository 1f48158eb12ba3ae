"""Periodic work over what the streamer stored: hashtag tops, heatmaps (and later clustering)."""
