"""Shared fixtures for every test suite."""
