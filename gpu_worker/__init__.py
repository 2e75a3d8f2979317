"""Render worker: engines, colour science, pipeline cache and resource monitor.

Everything here except the Celery task module takes plain data and returns plain data, so
it runs and tests without a database. Heavy libraries (torch, diffusers) are imported
lazily inside the engines that need them, never at package import.
"""
