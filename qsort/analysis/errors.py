"""Errors raised by the analysis engine."""

from __future__ import annotations


class AnalysisInputError(ValueError):
    """The input cannot be analysed; the message names the culprit sort or statement.

    Messages are written for researchers ("sort P004 has the same value for every
    statement"), so shells (CLI, task, views) can show them as they are.
    """


class JobCancelled(Exception):
    """A long computation's ``cancelled()`` callback said stop; nothing is returned."""
