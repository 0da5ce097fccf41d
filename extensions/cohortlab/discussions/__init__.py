"""Threaded discussion on notebook cells and the course Q&A."""
