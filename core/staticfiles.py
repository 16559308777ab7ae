"""Static files: whitenoise's compressed files with hashed names, forgiving a missing entry."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Links a file that `collectstatic` has not processed by its plain name instead of failing.

    The stock storage raises for a name missing from the manifest, so every page that links a
    static file (the admin, /docs, the browsable API) would answer 500 in the tests, which never
    run `collectstatic`, and on a server started before it ran. A plain name still works there:
    whitenoise serves it when the file was collected, it is a 404 of one file when it was not.
    """

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name
