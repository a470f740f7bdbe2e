"""The one size limit on files given to qsort (settings.QSORT_MAX_UPLOAD_BYTES), for every import."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _


class UploadRefused(ValueError):
    """The upload is missing, too large or unreadable; the message says so."""


def read_upload(upload: UploadedFile | None) -> bytes:
    """The upload's bytes, refusing anything over the limit before reading it."""
    if upload is None:
        return b""
    assert upload.size is not None  # Django's upload handlers always count the bytes
    if upload.size > settings.QSORT_MAX_UPLOAD_BYTES:
        raise UploadRefused(
            _("The file %(name)s is %(size)s; files up to %(limit)s can be imported. Nothing was saved.")
            % {
                "name": upload.name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.QSORT_MAX_UPLOAD_BYTES),
            }
        )
    return upload.read()
