"""Local Voice text-to-speech: a Wyoming server on Piper and Kokoro-82M."""
