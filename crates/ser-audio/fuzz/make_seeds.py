#!/usr/bin/env python3
"""Seed corpora for the cargo-fuzz targets (docs/fuzzing.md): the decoder fixtures plus WAVs of
every flavour the reader takes, and a few resampler inputs. Standard library only.

Run from crates/ser-audio/fuzz:  python3 make_seeds.py
"""
import math
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")


def wav(tag, channels, rate, bits, frames, data_size=None, riff_size=None):
    """A RIFF/WAVE file: format tag 1 (PCM) or 3 (float), a sine, little-endian."""
    samples = []
    for i in range(frames * channels):
        x = 0.5 * math.sin(i * 0.031)
        if tag == 3:
            samples.append(struct.pack("<f", x))
        elif bits == 8:
            samples.append(struct.pack("<B", int(128 + 127 * x)))
        elif bits == 24:
            samples.append(struct.pack("<i", int(x * 8388607))[:3])
        else:
            samples.append(struct.pack("<h" if bits == 16 else "<i", int(x * (2 ** (bits - 1) - 1))))
    data = b"".join(samples)
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def main():
    decode = os.path.join(HERE, "corpus", "decode")
    resample = os.path.join(HERE, "corpus", "resample")
    os.makedirs(decode, exist_ok=True)
    os.makedirs(resample, exist_ok=True)
    for name in ["speech_22k_mono.flac", "speech_22k_mono.mp3", "speech_22k_stereo.ogg"]:
        shutil.copy(os.path.join(FIXTURES, name), decode)
    seeds = {
        "pcm16_mono_16k.wav": wav(1, 1, 16000, 16, 4000),
        "pcm24_stereo_44k.wav": wav(1, 2, 44100, 24, 2205),
        "pcm8_mono_8k.wav": wav(1, 1, 8000, 8, 2000),
        "pcm32_mono_48k.wav": wav(1, 1, 48000, 32, 2400),
        "float_stereo_48k.wav": wav(3, 2, 48000, 32, 2400),
        "streamed_ffmpeg.wav": wav(1, 1, 16000, 16, 2000, 0xFFFFFFFF, 0xFFFFFFFF),
    }
    for name, b in seeds.items():
        with open(os.path.join(decode, name), "wb") as f:
            f.write(b)
    for name, (a, b, n) in {"48k_16k": (48000, 16000, 4800), "44k_16k": (44100, 16000, 4410),
                            "8k_192k": (8000, 192000, 800)}.items():
        with open(os.path.join(resample, name), "wb") as f:
            f.write(struct.pack("<II", a, b))
            f.write(b"".join(struct.pack("<f", 0.5 * math.sin(i * 0.05)) for i in range(n)))


if __name__ == "__main__":
    main()
