"""The routing server: asyncio + websockets + SQLite around the pure routing engine.

- ``app``: wiring, listening, shutdown (``Server``, ``ServerConfig``, ``ensure_demo_accounts``)
- ``store``: the SQLite file, schema, batched commits (an ack only after its commit)
- ``accounts``: staff accounts, Argon2id passwords, tokens; ``directory``: buyer-side kinds
- ``limits``: rate limits, login throttling, connection bound
- ``hub``: connections by agent, numbered per-agent events, resume, fan-out
- ``driver``: the engine with its input log (replayed on start)
- ``shop``: decisions into rows, pushes, timers; ``conversations``: rows and messages
- ``agents`` / ``buyers``: the two endpoints; ``bot``: the FAQ bot; ``kpis``: live tiles
"""
