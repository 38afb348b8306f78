"""A microphone for the satellite's tests: `--mic-command "python -m testkit.fake_mic SOCKET"`.

Prints 16 kHz mono int16 PCM at real-time pace in 20 ms chunks: a quiet room, plus
every clip a test asks for, plus what the fake speaker plays (the echo path). Both
arrive as datagrams on the UNIX socket SOCKET:
  b"P" + path   mix that raw 16 kHz PCM file in from the next chunk on
  b"E" + pcm    mix this 16 kHz PCM in (the speaker's sound, already delayed/scaled)
  b"X"          exit (a microphone that dies)
"""

import os
import socket
import sys
import time
from pathlib import Path

import numpy as np

CHUNK = 320  # samples: 20 ms


def main() -> None:
    path = sys.argv[1]
    noise_level = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    if os.path.exists(path):
        os.unlink(path)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    control.bind(path)
    control.setblocking(False)
    rng = np.random.default_rng()
    voice = np.zeros(0, np.float64)  # clips still to be mixed in
    echo = np.zeros(0, np.float64)
    out = sys.stdout.buffer
    started = time.monotonic()
    sent = 0
    while True:
        while True:
            try:
                message = control.recv(1 << 20)
            except BlockingIOError:
                break
            kind, body = message[:1], message[1:]
            if kind == b"X":
                return
            if kind == b"P":
                clip = np.frombuffer(Path(body.decode()).read_bytes(), np.int16).astype(np.float64)
                voice = _mix(voice, clip)
            elif kind == b"E":
                echo = np.concatenate([echo, np.frombuffer(body, np.int16).astype(np.float64)])
        chunk = rng.normal(0, noise_level, CHUNK)
        chunk[: min(len(voice), CHUNK)] += voice[:CHUNK]
        chunk[: min(len(echo), CHUNK)] += echo[:CHUNK]
        voice, echo = voice[CHUNK:], echo[CHUNK:]
        try:
            out.write(np.clip(chunk, -32768, 32767).astype(np.int16).tobytes())
            out.flush()
        except BrokenPipeError:
            return
        sent += CHUNK
        time.sleep(max(started + sent / 16000 - time.monotonic(), 0))


def _mix(current: np.ndarray, clip: np.ndarray) -> np.ndarray:
    if len(clip) > len(current):
        current = np.concatenate([current, np.zeros(len(clip) - len(current))])
    current[: len(clip)] += clip
    return current


if __name__ == "__main__":
    main()
