"""Everything else is in pyproject.toml. The email templates stay in templates/email/ at the
top of the repository and ship inside the package as newsletter/templates/email, beside the
web pages' templates: a package mapped to a folder outside newsletter/ is one that
`packages.find` cannot find."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["newsletter*", "worker*"]), "newsletter.templates.email"],
    package_dir={"newsletter.templates.email": "templates/email"},
)
