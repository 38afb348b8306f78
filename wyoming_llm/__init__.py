"""Local Voice conversation agent: Home Assistant intents from what the user said (llama.cpp)."""
