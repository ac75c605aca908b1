"""Mailing lists: the rules of finding, making and changing one (service.py, with the shapes
of its fields in shapes.py), and the headers every email from a list carries (headers.py)."""

from newsletter.lists.headers import list_headers, sender
from newsletter.lists.service import (
    NO_POSTAL_ADDRESS,
    ListNotFound,
    SlugTaken,
    create_list,
    default_postal_address,
    get_list,
    update_list,
)

__all__ = [
    "NO_POSTAL_ADDRESS",
    "ListNotFound",
    "SlugTaken",
    "create_list",
    "default_postal_address",
    "get_list",
    "list_headers",
    "sender",
    "update_list",
]
