"""One spelling per mailbox: the canonical form of an email address (pure functions, no database).

`user@exämple.com`, `user@xn--exmple-cua.com`, `USER@EXÄMPLE.COM` and the fullwidth `ｕｓｅｒ@…`
reach the same mailbox, so they must be one reader, one rate-limit bucket, one suppression hash
and one webhook match. The canonical form is NFKC, a lower-cased local part, and the domain in
IDNA A-labels (UTS 46 mapping, as browsers and mail servers resolve it).
"""

import unicodedata

import idna

# Invisible and layout characters (soft hyphen, zero-width joiners, bidi controls, line and
# paragraph separators, spaces): they make a different-looking string for the same mailbox, or
# break the email headers, so a typed address containing one is refused.
INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"})


class InvalidAddress(ValueError):
    """An address that has no canonical form; the message is meant for the person who typed it."""


def canonical_email(value: str) -> str:
    """The canonical form of an address someone typed, or InvalidAddress saying what is wrong."""
    value = unicodedata.normalize("NFKC", value.strip())
    for char in value:
        if unicodedata.category(char) in INVISIBLE:
            name = unicodedata.name(char, "a control character")
            raise InvalidAddress(
                f"The address contains an invisible or layout character (U+{ord(char):04X} {name}). "
                "Please type it again."
            )
    local, at, domain = value.rpartition("@")
    if not (at and local and domain):
        raise InvalidAddress("Enter a valid email address.")
    return f"{local.lower()}@{canonical_domain(domain)}"


def canonical_domain(domain: str) -> str:
    if domain.isascii():
        return domain.lower()
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidAddress(f"“{domain}” is not a valid domain name.") from exc


def normalize_email(value: str) -> str:
    """The canonical form for matching and hashing: never raises. Addresses from outside (ESP
    webhooks, rows stored before canonical forms) lose their invisible characters first, which
    is how a mail server reads them; what still has no canonical form is only trimmed and
    lower-cased, so it matches nothing by accident."""
    if value.isascii() and value.strip().isprintable() and " " not in value.strip():
        return value.strip().lower()  # the common case, on every digest planning pass
    try:
        return canonical_email(value)
    except InvalidAddress:
        visible = "".join(
            c for c in unicodedata.normalize("NFKC", value) if unicodedata.category(c) not in INVISIBLE
        )
        try:
            return canonical_email(visible)
        except InvalidAddress:
            return visible.lower()
