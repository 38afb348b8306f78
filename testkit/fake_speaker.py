"""A speaker for the satellite's tests:
`--snd-command "python -m testkit.fake_speaker DIR RATE [SOCKET GAIN_DB]"`.

Consumes raw 16-bit mono PCM from stdin at device pace (20 ms every 20 ms, as a sound
card drains its buffer) and records what was heard: DIR/<start>-<pid>.pcm holds the
audio, DIR/<start>-<pid>.log one line per 20 ms ("<unix time> <bytes>"). With SOCKET,
each 20 ms is also sent, resampled to 16 kHz and scaled by GAIN_DB, to the fake
microphone: the speaker's sound reaches the microphone as in a room.
"""

import contextlib
import os
import socket
import sys
import time
from pathlib import Path


def main() -> None:
    directory, rate = Path(sys.argv[1]), int(sys.argv[2])
    echo_path = sys.argv[3] if len(sys.argv) > 3 else None
    gain = 10 ** (float(sys.argv[4]) / 20) if len(sys.argv) > 4 else 0.5
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"{int(time.time() * 1000)}-{os.getpid()}"
    sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) if echo_path else None
    if sender is not None:
        import numpy as np  # only for the echo path: the speaker starts fast without it
    piece = rate // 50 * 2  # 20 ms
    started = time.monotonic()
    heard = 0
    with stem.with_suffix(".pcm").open("wb") as audio, stem.with_suffix(".log").open("w") as log:
        while data := sys.stdin.buffer.read(piece):
            audio.write(data)
            audio.flush()
            log.write(f"{time.time():.4f} {len(data)}\n")
            log.flush()
            if sender is not None and echo_path is not None:
                samples = np.frombuffer(data[: len(data) // 2 * 2], np.int16).astype(np.float64)
                count = int(len(samples) * 16000 / rate)
                resampled = np.interp(
                    np.linspace(0, len(samples) - 1, count), np.arange(len(samples)), samples
                )
                with contextlib.suppress(OSError):  # the microphone is restarting
                    sender.sendto((b"E" + (resampled * gain).astype(np.int16).tobytes()), echo_path)
            heard += len(data) // 2
            time.sleep(max(started + heard / rate - time.monotonic(), 0))


if __name__ == "__main__":
    main()
