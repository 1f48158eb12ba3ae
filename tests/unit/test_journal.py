"""The write-ahead journal on disk: which batches a start-up keeps, paired with the
acknowledgements an earlier run wrote."""

from __future__ import annotations

from pathlib import Path

from streamer.core.records import Detected
from streamer.delivery.journal import Entry, Journal

T0 = 1_700_000_000.0


def write_journal(directory: Path, batches: int, acked: int, every: int) -> None:
    """`batches` batches; every `every`-th of the first `acked` acknowledged (with those
    before it) at time T0 + its number."""
    journal = Journal(directory, 1 << 30, keep_seconds=1e9)  # nothing expires while writing
    journal.open(now=T0)
    for seq in range(1, batches + 1):
        journal.append(Entry(seq, {"offset": seq}, {"lines": 1}, [Detected("en", (), None)]))
        if seq <= acked and seq % every == 0:
            journal.ack(seq, now=T0 + seq)
    journal.close()


def test_a_journal_of_many_batches_pairs_each_with_the_ack_that_covers_it(
    tmp_path: Path,
) -> None:
    batches, acked, every, keep = 20_000, 19_000, 3, 100.0
    write_journal(tmp_path, batches, acked, every)
    # Start-up: the acknowledgements older than the keep window are spent; the batch an ack
    # covers is as old as that ack (batch 2's is ack 3's).
    now = T0 + 10_000 + keep
    journal = Journal(tmp_path, 1 << 30, keep_seconds=keep)
    journal.open(now=now)
    kept = [entry.seq for entry in journal.after(0)]
    last_ack = acked - acked % every
    # The first batch kept is the first whose covering ack is no older than the window.
    first = next(seq for seq in range(1, batches + 1) if -(-seq // every) * every >= 10_000)
    assert kept == list(range(first, batches + 1))
    assert journal.acked_upto == last_ack
    assert journal.count_after(last_ack) == batches - last_ack
    # Only the never acknowledged batches count against the bound.
    size = journal.unacked_bytes // (batches - last_ack)
    assert size > 0 and journal.unacked_bytes == size * (batches - last_ack)
    assert journal.last_position == {"offset": batches}
    journal.close()

    # Redis says it holds only up to batch 5000: everything after it stays, however old.
    again = Journal(tmp_path, 1 << 30, keep_seconds=keep)
    again.open(now=now, redis_has=5000)
    assert [entry.seq for entry in again.after(0)] == list(range(5001, batches + 1))
    assert again.unacked_bytes == journal.unacked_bytes  # old acked batches stay acked
    again.close()


def test_a_journal_without_acknowledgements_keeps_every_batch(tmp_path: Path) -> None:
    write_journal(tmp_path, 500, 0, 1)
    journal = Journal(tmp_path, 1 << 30, keep_seconds=0.0)
    journal.open(now=T0 + 1e6)
    assert [entry.seq for entry in journal.after(0)] == list(range(1, 501))
    assert journal.acked_upto == 0 and journal.full is False
    journal.close()
