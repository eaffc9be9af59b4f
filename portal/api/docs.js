// Starts Swagger UI on /api/v1/docs (a file, not an inline script: the portal's CSP allows
// scripts from this site only). The page names the OpenAPI document in data-spec-url.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never send the document to an outside validator
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
