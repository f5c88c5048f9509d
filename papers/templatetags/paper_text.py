"""Paper text in templates: math as MathML (`|math`) or plain text (`|math_text`), the author line."""

from django import template

from papers import cards, mathtext

register = template.Library()


@register.filter
def math(text: str):
    return mathtext.to_html(text or "")


@register.filter
def math_text(text: str) -> str:
    return mathtext.to_text(text or "")


@register.filter
def author_summary(paper) -> tuple[list[str], int]:
    """(first few names, how many more) for "Ada, Alan, Grace +11 more"."""
    return cards.author_summary(paper.authors, paper.author_count)
