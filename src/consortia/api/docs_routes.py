"""``/docs``: the API's reference page (Swagger UI) on ``/openapi.json``, served by the node
itself from the ``swagger-ui-bundle-v2`` package's files: nothing is loaded from elsewhere.

| path | what |
|---|---|
| `GET /docs` | the page |
| `GET /docs/{file}` | its assets: the Swagger UI bundle, its stylesheet and the page's start-up script |
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route
from swagger_ui_bundle import swagger_ui_path

from consortia.errors import NotFound

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
"""The Swagger UI files the page uses (nothing else of the package's folder is served)."""

START = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
};
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Consortia node API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="stylesheet" href="docs/index.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="docs/swagger-ui-standalone-preset.js" charset="utf-8"></script>
  <script src="docs/consortia-start.js" charset="utf-8"></script>
</body>
</html>
"""


def docs_routes() -> list[Route]:
    folder = Path(str(swagger_ui_path))

    def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    def asset(request: Request) -> Response:
        name = request.path_params["file"]
        if name == "consortia-start.js":
            return Response(START, media_type="text/javascript")
        if name not in ASSETS:
            raise NotFound(f"no documentation asset {name!r}")
        return FileResponse(folder / name, media_type=ASSETS[name])

    return [Route("/docs", page), Route("/docs/{file}", asset)]
