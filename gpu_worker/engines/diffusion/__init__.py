"""SDXL through diffusers (imported only by a worker that runs this engine)."""
