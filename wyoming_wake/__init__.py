"""Wake-word service: microWakeWord and openWakeWord over the Wyoming protocol."""
