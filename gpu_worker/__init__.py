"""The render library: engines, colour science, the runner and the resource monitor.

Everything here takes plain data and returns plain data (no ORM, no Django), so it runs and
tests without a database: `params.py` declares the render parameters, `contract.py` is what
an engine takes and gives. The Celery side that feeds it job rows is renders/worker. Heavy
libraries (torch, diffusers) are imported lazily inside the engines that need them, never
at package import.
"""
