"""The demo study "Relapse and recovery", written for qsort from the themes of the focus groups
that started the project (shared/seed/), with synthetic sorts from three viewpoints so that the
analysis has real structure to find."""

from __future__ import annotations

import numpy as np

DEMO_SLUG = "relapse-and-recovery"
DEMO_USERNAME = "facilitator"
DEMO_SORTS = 40

CONDITION = "What helps a person sustain recovery from Class A drugs, and what puts it at risk?"
# The seed study's two questions (shared/seed/): the demo's two conditions of instruction.
CONDITIONS = [
    ("Relapse", "What do you think might cause someone to relapse from Class A drugs?"),
    ("Recovery", "What do you think is helpful in sustaining a person's recovery from Class A drugs?"),
]
CONSENT = (
    "This study asks how you see recovery from drug use. You will sort cards with short statements "
    "from 'most disagree' to 'most agree'. It takes about 20 minutes. We do not ask for your name: "
    "your answers are kept under a code only. You can stop at any time, and you can ask the "
    "facilitator to delete your answers later."
)
WELCOME = "Thank you for taking part. There are no right or wrong answers: we want to know how you see it."
THANK_YOU = "Your sort has been saved. If anything here upset you, please talk to the facilitator."

STATEMENTS = [
    "What happened to me as a child still shapes how I cope today.",
    "Not feeling close to my parents growing up made me look for comfort in drugs.",
    "Abuse I went through when I was young is part of why I used.",
    "Trauma I have never talked about can pull me back into using.",
    "Losing someone I loved sent my drug use out of control.",
    "Grief that was never dealt with is a big risk for relapse.",
    "Feeling depressed is one of the main reasons people go back to drugs.",
    "Post-natal depression that nobody noticed can lead a mother to use.",
    "Not knowing how to ask for help kept me using for longer.",
    "Asking for help is a sign of strength, not weakness.",
    "My family is the main reason I want to stay clean.",
    "Some of my family make it harder for me to stay off drugs.",
    "A partner who uses makes recovery almost impossible.",
    "A supportive partner makes all the difference.",
    "Arguments with my mother can be enough to set me off.",
    "Having a structure to my day keeps me safe.",
    "A daily routine matters more than willpower.",
    "Support from people who have been there themselves helps most.",
    "Being honest with myself is the hardest part of recovery.",
    "Being honest with others about my using helps me stay clean.",
    "'Dodgy thoughts' come before a relapse, long before I actually use.",
    "Planning a use happens in my head days before I do it.",
    "Stress from things I thought I had dealt with can catch me out.",
    "Realising I had not dealt with my past was a stress in itself.",
    "Drug services understood what I really needed.",
    "Services give up on people who relapse too quickly.",
    "Having safe, stable housing is the foundation of recovery.",
    "Living around other users makes relapse more likely.",
    "Having work or something useful to do keeps me from using.",
    "A criminal record makes it hard to build a new life.",
    "Going back to offending and going back to drugs go hand in hand.",
    "Prison or court orders forced me to take recovery seriously.",
    "Boredom and too much free time are dangerous for me.",
    "Talking therapy helped me understand why I used.",
    "Medication such as methadone is a real help, not just a substitute.",
    "Being a parent gives me a reason to keep going.",
    "Feeling ashamed of my past makes it harder to stay clean.",
    "Recovery means changing the people, places and things around me.",
]

# -4..+4, 38 cards.
GRID = {-4: 2, -3: 3, -2: 4, -1: 6, 0: 8, 1: 6, 2: 4, 3: 3, 4: 2}

QUESTIONS = [
    "Which card was the hardest to place, and why?",
    "Is there anything important about relapse or recovery that the cards did not cover?",
    "How long have you been in recovery (roughly)?",
]


def viewpoint_scores() -> np.ndarray:
    """Three viewpoints (statements x 3), as latent scores: the 'past and trauma' view, the
    'structure, routine and practical life' view and the 'relationships and family' view."""
    themes = {
        0: [1, 2, 3, 4, 5, 6, 7, 8, 9, 23, 24, 34, 37],
        1: [16, 17, 27, 29, 33, 35, 38, 26, 28, 31],
        2: [11, 12, 13, 14, 15, 36, 18, 20, 10],
    }
    scores = np.zeros((len(STATEMENTS), 3))
    for view, numbers in themes.items():
        for rank, number in enumerate(numbers):
            scores[number - 1, view] = 3.0 - rank * 0.2
    # Centre and orthogonalise, so the three viewpoints are distinct factors, not one bipolar axis.
    q, _ = np.linalg.qr(scores - scores.mean(axis=0))
    return q * np.sign(np.diag(q.T @ scores)) * 6.0


def synthetic_sorts(n_sorts: int = DEMO_SORTS, seed: int = 20261125) -> list[list[int]]:
    """Sorts generated from the three viewpoints plus noise, each forced into GRID."""
    rng = np.random.default_rng(seed)
    views = viewpoint_scores()
    grid_values = np.repeat(list(GRID), list(GRID.values()))
    sorts = []
    for i in range(n_sorts):
        latent = views[:, i % 3] + rng.normal(0, 1.0, size=len(STATEMENTS))
        order = np.argsort(latent, kind="stable")
        values = np.empty(len(STATEMENTS), dtype=int)
        values[order] = grid_values
        sorts.append(values.tolist())
    return sorts


# The known truth behind the Recovery sorts, for tests and for anyone reading the demo's results.
# Every participant's view of these statements moves between the questions (latent score, up
# or down): structure, routine, peer support, housing and asking for help rise when asked what
# helps; trauma, depression, living around users, boredom and dodgy thoughts fall.
PLANTED_SHIFTS = {10: 4.0, 16: 4.0, 17: 4.0, 18: 4.0, 27: 4.0, 4: -4.0, 7: -4.0, 21: -4.0, 28: -4.0, 33: -4.0}
# Participants whose viewpoint changes between the questions: those holding the 'past and
# trauma' view (every third, from the first) sort Recovery from the 'structure' view.
SWITCHED_VIEW = {0: 1}


def switches_view(index: int) -> bool:
    return index % 3 in SWITCHED_VIEW


def recovery_sorts(n_sorts: int = DEMO_SORTS, seed: int = 20261130) -> list[list[int]]:
    """The same participants' sorts for the Recovery question: their Relapse viewpoint (or the
    one they switch to), plus PLANTED_SHIFTS, plus fresh noise; forced into GRID."""
    rng = np.random.default_rng(seed)
    views = viewpoint_scores()
    shift = np.zeros(len(STATEMENTS))
    for number, amount in PLANTED_SHIFTS.items():
        shift[number - 1] = amount
    grid_values = np.repeat(list(GRID), list(GRID.values()))
    sorts = []
    for i in range(n_sorts):
        view = SWITCHED_VIEW.get(i % 3, i % 3)
        latent = views[:, view] + shift + rng.normal(0, 1.0, size=len(STATEMENTS))
        order = np.argsort(latent, kind="stable")
        values = np.empty(len(STATEMENTS), dtype=int)
        values[order] = grid_values
        sorts.append(values.tolist())
    return sorts
