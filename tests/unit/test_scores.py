"""The promotion rule and checkpoint keeping, on hand-made scores."""

from voicesmith.engines import scores


def entry(step, cer, rel=None, loss=1.0):
    return {"step": step, "cer": cer, "relative_similarity": rel, "eval_loss": loss}


def test_the_most_alike_checkpoint_within_the_cer_margin_wins():
    found = [entry(1, 0.30, 0.99), entry(2, 0.10, 0.80), entry(3, 0.14, 0.90), entry(4, 0.16, 0.95)]
    # 4 is the most alike of those near the best CER, but 0.16 is over 0.10 + 0.05.
    assert scores.promoted(found) == 3
    assert scores.rank(found)[:2] == [3, 2]


def test_without_similarity_the_lowest_eval_loss_near_the_best_cer_wins():
    found = [entry(1, 0.10, loss=5.0), entry(2, 0.12, loss=4.0), entry(3, 0.5, loss=1.0)]
    assert scores.promoted(found) == 2


def test_ties_go_to_the_earlier_step_so_patience_counts_them():
    found = [entry(2, 1.0, 0.5), entry(4, 1.0, 0.5), entry(6, 1.0, 0.5)]
    assert scores.promoted(found) == 2
    assert scores.evaluations_since_best(found) == 2


def test_no_cer_at_all_falls_back_to_likeness_then_loss():
    assert scores.promoted([entry(1, None, 0.6), entry(2, None, 0.7)]) == 2
    assert scores.promoted([entry(1, None, loss=3.0), entry(2, None, loss=2.0)]) == 2
    assert scores.promoted([]) is None


def test_keeping_is_the_best_k_plus_the_newest_and_an_override():
    found = [entry(s, 0.1, r) for s, r in ((2, 0.9), (4, 0.5), (6, 0.8), (8, 0.1))]
    assert scores.to_keep(found, 2, 8) == {2, 6, 8}
    assert scores.to_keep(found, 1, 8, override=4) == {2, 4, 8}


def test_an_override_beats_the_rule():
    found = [entry(2, 0.1, 0.9), entry(4, 0.1, 0.5)]
    assert scores.chosen({"checkpoints": found}) == 2
    assert scores.chosen({"checkpoints": found, "override": 4}) == 4


def test_the_voice_cache_key_follows_a_re_pointed_best_model(tmp_path):
    from voicesmith.core.files import link_or_copy
    from voicesmith.synthesis.service import VoiceRef

    for step in (2, 4):
        (tmp_path / f"checkpoint_{step}.pth").write_bytes(b"weights %d" % step)
    link_or_copy(tmp_path / "checkpoint_2.pth", tmp_path / "best_model.pth")
    ref = VoiceRef("job", tmp_path)
    before = ref.key
    assert ref.key == before  # stable while nothing changes: the cache hits
    link_or_copy(tmp_path / "checkpoint_4.pth", tmp_path / "best_model.pth")
    assert ref.key != before


def test_checkpoints_json_round_trips_with_an_override(tmp_path):
    from voicesmith.engines import runfiles

    assert runfiles.read_scores(tmp_path) == {"promoted": None, "checkpoints": []}
    found = [entry(2, 0.1, 0.9), entry(4, 0.1, 0.5)]
    runfiles.write_scores(tmp_path, {"promoted": 2, "checkpoints": found})
    runfiles.write_override(tmp_path, 4)
    record = runfiles.read_scores(tmp_path)
    assert record["promoted"] == record["override"] == 4 == scores.chosen(record)
