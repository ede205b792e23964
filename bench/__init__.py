"""The load benchmark: the service against a bare Starlette ceiling serving the same bytes.

Run it with `bash bench/run` (or `.venv/bin/python -m bench`); see docs/readme/performance.md.
"""
