"""Training that fits: a batch split in parts, the out-of-memory advice, a full disk's message."""

import errno

import pytest
import torch

from voicesmith.engines.training import saving
from voicesmith.engines.training.accumulate import split_batch
from voicesmith.training.failures import out_of_memory


def _batch(lengths: list[int]) -> dict:
    """A formatted VITS batch in the collate's order: longest first, padded to the longest."""
    longest = max(lengths)
    return {
        "tokens": torch.ones(len(lengths), longest, dtype=torch.long),
        "token_lens": torch.tensor(lengths),
        "spec": torch.zeros(len(lengths), 3, longest),
        "spec_lens": torch.tensor(lengths),
        "waveform": torch.zeros(len(lengths), 1, longest * 4),
        "waveform_lens": [n * 4 for n in lengths],
        "audio_files": [f"{n}.wav" for n in range(len(lengths))],
        "d_vectors": None,
    }


def test_a_batch_splits_into_consecutive_parts_each_cut_to_its_longest_item():
    parts = split_batch(_batch([9, 7, 4, 2, 1]), 2)
    # The longest items' part is the smaller one: it needs the most memory per item.
    assert [p["token_lens"].tolist() for p in parts] == [[9, 7], [4, 2, 1]]
    assert [p["audio_files"] for p in parts] == [["0.wav", "1.wav"], ["2.wav", "3.wav", "4.wav"]]
    assert [tuple(p["tokens"].shape) for p in parts] == [(2, 9), (3, 4)]
    assert [tuple(p["spec"].shape) for p in parts] == [(2, 3, 9), (3, 3, 4)]
    assert [tuple(p["waveform"].shape) for p in parts] == [(2, 1, 36), (3, 1, 16)]
    assert all(p["d_vectors"] is None for p in parts)


def test_more_parts_than_items_gives_one_part_per_item():
    parts = split_batch(_batch([5, 3]), 4)
    assert [p["token_lens"].tolist() for p in parts] == [[5], [3]]


def test_out_of_memory_at_batch_one_says_what_would_fit():
    said = out_of_memory({"batch_size": 4, "grad_accum_steps": 4}, 20.1, "out of memory at ...")
    assert said.startswith("Training ran out of memory even at batch size 1.")
    assert "the longest is 20.1 s; try at most 10 s" in said
    assert "VOICESMITH_TRAINING_MEMORY_LIMIT_MB" in said
    assert said.endswith("\nout of memory at ...")


def test_out_of_memory_after_two_halvings_suggests_a_smaller_start():
    said = out_of_memory({"batch_size": 32, "grad_accum_steps": 4}, 3.0, "detail")
    assert "at batch size 8, after halving it twice" in said
    assert "batch size 4 or less" in said


@pytest.mark.parametrize(
    ("error", "cause"),
    [(errno.ENOSPC, "the disk is full"), (errno.EFBIG, "a file size limit was reached")],
)
def test_a_full_disk_says_what_a_checkpoint_needs_and_what_is_free(tmp_path, error, cause):
    (tmp_path / "checkpoint_2.pth").write_bytes(b"x" * 3 * 2**20)
    said = saving.disk_full_message(tmp_path / "checkpoint_4.pth", error)
    assert said.startswith(f"No space left for checkpoint_4.pth: {cause}.")
    assert "Saving it needs about 3 MB;" in said
    assert f"MB are free in {tmp_path}" in said


def test_a_failed_save_leaves_no_file_behind(tmp_path):
    target = tmp_path / "checkpoint_4.pth"

    class Unsaveable:
        def __reduce__(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(saving.DiskFull, match="No space left for checkpoint_4.pth"):
        saving.save_atomically({"model": Unsaveable()}, target)
    assert list(tmp_path.iterdir()) == []
