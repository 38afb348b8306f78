"""Wyoming speech-to-text server on faster-whisper."""
