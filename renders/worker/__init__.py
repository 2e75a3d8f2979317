"""The render worker's side of the renders app: the one bridge between job rows and engines.

- `tasks.py`: the Celery tasks (a job id in, nothing else);
- `execute.py`: claim a job's row, run the engine through gpu_worker's runner, store the
  result, telemetry and catalog image; safe to run twice;
- `engine_input.py`: a job row as the engine's plain-data `RenderSpec`;
- `heartbeat.py`: what each worker process says about itself, busy or idle;
- `preload.py`: diffusion models a worker process loads as it starts;
- `broker.py`: which job ids still have a message in Redis (for the reconciler).

Only worker processes (and the in-process `render` command) import this package's
`execute`; the web process sends tasks by name and never loads an engine.
"""
