"""The procedural engine: numpy + OpenCV granule tiles, exact colour shares, CPU only."""
