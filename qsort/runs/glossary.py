"""Short explanations of the words the results pages use, for hover/focus hints and the glossary.

One place: the `term` template tag and the glossary on the Report page both read this.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

GLOSSARY = {
    "q-sort": (
        _("Q-sort"),
        _("One person's ranking of every statement into the grid, from most disagree to most agree."),
    ),
    "condition": (
        _("Condition of instruction"),
        _("The question participants answered while sorting, e.g. “What helps you stay in recovery?”."),
    ),
    "factor": (_("Factor"), _("A shared viewpoint: a group of Q-sorts that rank the statements in a similar way.")),
    "loading": (
        _("Loading"),
        _("How closely a Q-sort agrees with a factor, from -1 to +1, like a correlation."),
    ),
    "flag": (
        _("Flag / defining sort"),
        _("A Q-sort chosen to define a factor: only flagged sorts make up its composite sort."),
    ),
    "confounded": (
        _("Confounded"),
        _("A Q-sort with a significant loading but no flag: its view is shared between factors, so it defines none."),
    ),
    "nonsignificant": (_("Not significant"), _("A Q-sort with no significant loading on any factor.")),
    "z": (
        _("z-score"),
        _("How strongly a factor agrees (positive) or disagrees (negative) with a statement, in standard deviations."),
    ),
    "q": (_("Q (grid position)"), _("Where the factor's composite sort places the statement in the grid, -4 to +4.")),
    "composite": (
        _("Composite sort (factor array)"),
        _(
            "How a person holding the factor's viewpoint would have sorted the cards: "
            "the z-scores ranked into the grid."
        ),
    ),
    "marks": (
        _("Significance marks"),
        _(
            "Beside a grid position: the factor places the statement differently from every other factor "
            "at * p < .05, ** p < .01, *** p < .001, 6* p < .000001."
        ),
    ),
    "distinguishing": (
        _("Distinguishing statement"),
        _("A statement this factor places significantly differently from every other factor."),
    ),
    "consensus": (
        _("Consensus statement"),
        _("A statement that no pair of factors places significantly differently: common ground."),
    ),
    "crib": (
        _("Crib sheet"),
        _(
            "A reading aid (Watts & Stenner): the statements a factor ranks highest and lowest, and those it ranks "
            "higher or lower than every other factor."
        ),
    ),
    "eigenvalue": (
        _("Eigenvalue"),
        _("How much of the Q-sorts' variation a factor accounts for; above 1 is the classic rule of thumb."),
    ),
    "reliability": (
        _("Composite reliability"),
        _("How dependable the factor's composite sort is; it grows with the number of defining sorts."),
    ),
}
