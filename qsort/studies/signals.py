"""What `studies` announces to the rooms built on it, so that no arrow points back up.

Receivers run after the sort's transaction has committed, and a failing receiver never fails
the participant's request (the sender uses `send_robust` and logs what went wrong).
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `study_id` once a completed sort is committed (any door: participant, API, paper, import).
sort_completed = Signal()
