from flask import Blueprint

bp = Blueprint("archive", __name__)


@bp.get("/archive/<slug>")
def index(slug: str):
    raise NotImplementedError


@bp.get("/archive/<slug>/<int:number>")
def issue(slug: str, number: int):
    raise NotImplementedError
