"""One VITS step over a batch split in parts: the memory of a part, the update of the batch.

Coqui's Trainer refuses grad_accum_steps for models with two optimizers, because the
generator's backward pass leaves gradients on the discriminator. Here each backward pass
names the parameters it feeds (`inputs=`), so both optimizers' gradients sum cleanly over
the parts. Both updates happen after the last part: the generator's loss sees this step's
discriminator before its update, where the unsplit step shows it the updated one.
"""

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from trainer import Trainer

DISCRIMINATOR, GENERATOR = 0, 1  # Coqui VITS's optimizer order
# The padded tensors of a formatted batch and the lengths that say how much of each is real.
# A part is cut to its own longest item: the model builds its masks from the lengths.
PADDED = {
    "tokens": "token_lens", "spec": "spec_lens", "mel": "mel_lens", "waveform": "waveform_lens"
}  # fmt: skip


def split_batch(batch: dict[str, Any], parts: int) -> list[dict[str, Any]]:
    """The batch as `parts` batches of consecutive items (fewer if it holds fewer items)."""
    size = len(batch["token_lens"])
    # The collate puts the longest items first: rounding down keeps their part the smaller.
    bounds = [i * size // parts for i in range(parts + 1)]
    ranges = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    return [_trim({k: _slice(v, size, a, b) for k, v in batch.items()}) for a, b in ranges]


def _trim(part: dict[str, Any]) -> dict[str, Any]:
    """Cut the part's padded tensors to its longest item, along their last axis."""
    for name, lens in PADDED.items():
        if isinstance(part.get(name), torch.Tensor) and part.get(lens) is not None:
            longest = int(max(part[lens]))
            part[name] = part[name][..., :longest]
    return part


def _slice(value: Any, size: int, start: int, stop: int) -> Any:
    """Items start:stop of a per-item tensor or list; anything else is shared by every part."""
    if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == size:
        return value[start:stop]
    if isinstance(value, list) and len(value) == size:
        return value[start:stop]
    return value


def step(
    trainer: "Trainer", batch: dict[str, Any], parts: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Accumulate both losses' gradients over the parts, then update both.

    Returns the last part's outputs, named as the Trainer names them, and the mean losses.
    """
    chunks = split_batch(batch, parts)
    totals: dict[str, float] = {}
    outputs: dict[str, Any] = {}
    for chunk in chunks:
        for idx in (DISCRIMINATOR, GENERATOR):
            out, losses = trainer._compute_loss(chunk, trainer.criterion[idx], idx)  # noqa: SLF001
            _backward(trainer, losses["loss"] / len(chunks), _parameters(trainer, idx))
            _add(totals, losses, idx, len(chunks))
            outputs.update({f"{k}_{idx}": v for k, v in (out or {}).items()})
    for idx in (DISCRIMINATOR, GENERATOR):
        _update(trainer, idx)
    if trainer.use_amp_scaler and trainer.scaler is not None:
        trainer.scaler.update()
    trainer.model.zero_grad(set_to_none=True)
    return outputs, totals


def _parameters(trainer: "Trainer", idx: int) -> list[torch.Tensor]:
    """The parameters optimizer idx updates: the only ones its loss may leave gradients on."""
    return [p for group in trainer.optimizer[idx].param_groups for p in group["params"]]


def _backward(trainer: "Trainer", loss: torch.Tensor, params: list[torch.Tensor]) -> None:
    """Add the loss's gradients to params only, scaled under mixed precision."""
    scaler = trainer.scaler if trainer.use_amp_scaler else None
    (scaler.scale(loss) if scaler is not None else loss).backward(inputs=params)


def _update(trainer: "Trainer", idx: int) -> None:
    """Clip and apply optimizer idx's summed gradients, as the Trainer's own step would."""
    optimizer = trainer.optimizer[idx]
    clip = trainer._set_grad_clip_per_optimizer(config=trainer.config, optimizer_idx=idx)  # noqa: SLF001
    scaler = trainer.scaler if trainer.use_amp_scaler else None
    if scaler is not None:
        scaler.unscale_(optimizer)
    if clip and clip > 0:
        torch.nn.utils.clip_grad_norm_(_parameters(trainer, idx), clip)
    if scaler is not None:
        scaler.step(optimizer)
    else:
        optimizer.step()
    trainer._stepped_optimizers.add(idx)  # noqa: SLF001 - read by its per-epoch scheduler step
    scheduler = trainer.scheduler[idx]
    if scheduler is not None and not trainer.config.scheduler_after_epoch:
        scheduler.step()


def _add(totals: dict[str, float], losses: dict[str, Any], idx: int, parts: int) -> None:
    """Add one part's share of its losses; the two optimizers' totals keep apart names."""
    for name, value in losses.items():
        key = f"loss_{idx}" if name == "loss" else name
        number = float(value.detach()) if torch.is_tensor(value) else float(value)
        totals[key] = totals.get(key, 0.0) + number / parts
