"""The port each service listens on by default, as the peers' add-ons use them."""

STT_PORT = 10300
TTS_PORT = 10200
WAKE_PORT = 10400
LLM_PORT = 10500
SATELLITE_PORT = 10700
