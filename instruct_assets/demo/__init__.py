"""The embedded demo: landing-directory sources built from instruction data that PyPI packages ship."""
