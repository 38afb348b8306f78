"""Voice satellite: microphone, speaker, embedded wake word, barge-in and echo
cancellation, for Home Assistant."""
