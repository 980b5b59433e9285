"""The training child process; only the worker starts it (`python -m voicesmith.engines.training`).

Nothing outside this package imports it: the web process uses the runtime modules beside it.
"""
