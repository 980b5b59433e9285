"""The bottom layer: file, lock and text helpers that import nothing else of voicesmith."""
