"""Everything else is in pyproject.toml. The email templates stay in templates/email/ at the
top of the repository and ship inside the package as newsletter/templates/email, beside the
web pages' templates: a package mapped to a folder outside newsletter/ is one that
`packages.find` cannot find. The gettext catalogs are compiled here (.po to .mo), so a wheel
carries them and an editable install has them in the source tree."""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

CATALOGS = Path("newsletter/translations")


class BuildWithCatalogs(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        # An editable install reads the package from the source tree, a wheel from build_lib.
        target = Path("." if self.editable_mode else self.build_lib)
        for po in sorted(CATALOGS.glob("*/LC_MESSAGES/*.po")):
            mo = target / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as compiled:
                write_mo(compiled, catalog)


setup(
    packages=[*find_packages(include=["newsletter*", "worker*"]), "newsletter.templates.email"],
    package_dir={"newsletter.templates.email": "templates/email"},
    cmdclass={"build_py": BuildWithCatalogs},
)
