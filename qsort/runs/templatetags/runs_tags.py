from django import template
from django.utils.html import format_html

from qsort.runs.glossary import GLOSSARY
from qsort.studies.validation import signed as signed_value

register = template.Library()


@register.filter
def signed(value: int | None) -> str:
    """A grid value as participants saw it: +2, 0, -3."""
    return "" if value is None else signed_value(value)


@register.filter
def percent(share: float | None) -> str:
    """A share from 0 to 1 as a whole percentage: 0.925 -> "93 %"."""
    return "—" if share is None else f"{round(100 * share)} %"


@register.simple_tag
def term(key: str, text: str = "") -> str:
    """A word from the glossary with its explanation on hover and keyboard focus."""
    name, explanation = GLOSSARY[key]
    # The tip is in the text (screen readers read it), shown on hover and focus by runs.css.
    return format_html(
        '<span class="term" tabindex="0">{}<span class="tip" role="tooltip"> ({})</span></span>',
        text or name,
        explanation,
    )
