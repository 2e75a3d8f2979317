"""Render jobs: submit, queue, execute through the engines, store, audit, re-render."""
