"""Coqui VITS models as the runtime builds them: the scratch presets' configs."""

from typing import Any

from TTS.tts.configs.shared_configs import CharactersConfig
from TTS.tts.configs.vits_config import VitsArgs, VitsConfig

from voicesmith.engines.vocab import preset_text_config

SAMPLE_RATE = 22050
# Small everything: trains in seconds on two CPU cores; only good for tests and demos.
TINY_ARGS: dict[str, Any] = {
    "hidden_channels": 32,
    "hidden_channels_ffn_text_encoder": 64,
    "num_layers_text_encoder": 2,
    "num_layers_posterior_encoder": 2,
    "num_layers_flow": 2,
    "upsample_initial_channel_decoder": 32,
    "resblock_kernel_sizes_decoder": [3],
    "resblock_dilation_sizes_decoder": [[1, 3, 5]],
    "use_sdp": False,
    # Only the scale discriminator: each period discriminator has 8M parameters.
    "periods_multi_period_discriminator": [],
}


def preset_config(name: str) -> VitsConfig:
    """A from-scratch VITS config for scratch:tiny or scratch:full, at 22050 Hz."""
    text = preset_text_config(name)
    args = VitsArgs(**TINY_ARGS) if name == "scratch:tiny" else VitsArgs()
    config = VitsConfig(model_args=args, characters=CharactersConfig(**text["characters"]))
    config.audio.sample_rate = SAMPLE_RATE
    for key in ("use_phonemes", "phonemizer", "phoneme_language", "text_cleaner"):
        if key in text:
            setattr(config, key, text[key])
    return config
