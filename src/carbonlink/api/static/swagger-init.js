// Swagger UI of the API documentation page: "Authorize" with the declared schemes; requests
// that change data with the session cookie alone carry the session's CSRF token.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var token = document.querySelector("meta[name=csrf-token]").content;
  var header = root.dataset.csrfHeader;
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: false,
    persistAuthorization: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: function (request) {
      var headers = request.headers || {};
      var named = function (name) { return Object.keys(headers).some(function (k) { return k.toLowerCase() === name; }); };
      var unsafe = ["GET", "HEAD", "OPTIONS"].indexOf((request.method || "GET").toUpperCase()) < 0;
      var sameOrigin = new URL(request.url, location.href).origin === location.origin;
      if (token && unsafe && sameOrigin && !named("authorization") && !named("x-api-key")) {
        headers[header] = token;
        request.headers = headers;
      }
      return request;
    }
  });
})();
