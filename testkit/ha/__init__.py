"""Driving a real Home Assistant core process offline: start it, log in, add flows, run Assist.

Used by the end-to-end test (tests_ha/test_e2e.py) and bench/e2e.py. Runs under the
Home Assistant virtualenv (.venv-ha, Python 3.13, aiohttp); the Local Voice services
run from the project's .venv as separate processes.
"""
