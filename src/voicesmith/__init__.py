"""voicesmith: turn recordings into a TTS voice."""
