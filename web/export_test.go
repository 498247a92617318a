package web

// Exported for the external tests (package web_test) only.

// BearerRoutes are the non-API routes that also take a bearer token.
var BearerRoutes = bearerRoutes
