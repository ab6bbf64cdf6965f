"""The ``ops`` blueprint: what load balancers and monitoring ask."""

from flask import Blueprint

bp = Blueprint("ops", __name__)
