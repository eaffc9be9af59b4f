"""The API's OpenAPI document (/api/v1/openapi.json) and its interactive docs page
(/api/v1/docs), public like /login: they describe the API and hold no data.

Swagger UI is served from an installed package (`flask_swagger_ui`'s copy of the Swagger UI
5 distribution; no CDN). Swagger UI 5 is the first to read OpenAPI 3.1 (the 4.x copy in
`swagger_ui_bundle` refuses a 3.1 document). The page runs under the portal's
Content-Security-Policy (scripts from this site only): flask-smorest's template starts
Swagger UI with an inline script, so this page loads a small initializer file instead
(`docs.js`) and passes it the document's URL in a data attribute.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flask
from flask import render_template_string, send_file, send_from_directory

from portal.access import public

if TYPE_CHECKING:
    from portal.api.core import PortalApi

BLUEPRINT = "api_v1_docs"
INITIALIZER = Path(__file__).with_name("docs.js")
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link rel="stylesheet" href="{{ assets }}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ spec_url }}"></div>
  <script src="{{ assets }}swagger-ui-bundle.js"></script>
  <script src="{{ initializer }}"></script>
</body>
</html>
"""


def swagger_ui_dir() -> Path:
    return Path(str(resources.files("flask_swagger_ui") / "dist"))


def register(api: PortalApi) -> None:
    """The docs blueprint, from flask-smorest's settings (OPENAPI_URL_PREFIX, _JSON_PATH,
    _SWAGGER_UI_PATH, _SWAGGER_UI_URL under the Api's config prefix)."""
    prefix = api.config.get("OPENAPI_URL_PREFIX")
    if prefix is None:
        return
    blueprint = flask.Blueprint(BLUEPRINT, __name__, url_prefix=prefix)
    json_path = api.config.get("OPENAPI_JSON_PATH", "openapi.json")
    ui_path = api.config.get("OPENAPI_SWAGGER_UI_PATH", "docs")
    assets = api.config.get("OPENAPI_SWAGGER_UI_URL", f"{prefix}/swagger-ui/")

    @public
    def openapi_json() -> Any:
        return flask.current_app.response_class(
            flask.json.dumps(api.spec.to_dict(), indent=2, sort_keys=False),
            mimetype="application/json",
        )

    @public
    def swagger_ui() -> str:
        return render_template_string(
            PAGE,
            title=f"{api.spec.title} {api.spec.version}",
            assets=assets,
            spec_url=flask.url_for(f"{BLUEPRINT}.openapi_json"),
            initializer=flask.url_for(f"{BLUEPRINT}.initializer"),
        )

    @public
    def swagger_ui_css() -> Any:
        return send_from_directory(swagger_ui_dir(), "swagger-ui.css", max_age=86400)

    @public
    def swagger_ui_js() -> Any:
        return send_from_directory(swagger_ui_dir(), "swagger-ui-bundle.js", max_age=86400)

    @public
    def initializer() -> Any:
        return send_file(INITIALIZER, mimetype="text/javascript", max_age=86400)

    blueprint.add_url_rule(f"/{json_path.lstrip('/')}", view_func=openapi_json)
    blueprint.add_url_rule(f"/{ui_path.lstrip('/')}", view_func=swagger_ui)
    # The two files the page loads, each its own route (no path argument: every route
    # argument in the portal is a bounded row id).
    blueprint.add_url_rule("/swagger-ui/swagger-ui.css", view_func=swagger_ui_css)
    blueprint.add_url_rule("/swagger-ui/swagger-ui-bundle.js", view_func=swagger_ui_js)
    blueprint.add_url_rule("/docs.js", view_func=initializer)
    api._app.register_blueprint(blueprint)
