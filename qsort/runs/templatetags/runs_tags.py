from django import template

from qsort.studies.validation import signed as signed_value

register = template.Library()


@register.filter
def signed(value: int | None) -> str:
    """A grid value as participants saw it: +2, 0, -3."""
    return "" if value is None else signed_value(value)
