package main

import (
	"embed"
	"net/http"
	"path"
	"strings"

	"github.com/eventhub/eventhub/shared/apigw"
)

// The console (issue 17): a web page for operators, served by the api function itself
// at /console. Its files hold no data and need no token; every datum the page shows
// comes from the API's own routes, with the admin token the operator enters (kept in
// the browser's sessionStorage) and the same checks as the CLI.
//
//go:embed console
var consoleFiles embed.FS

// consoleCSP allows the page its own files and its own API, and nothing else: no inline
// script or style, no other origin, no framing.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// isConsole reports whether the route is one of the console's, served without a token.
func isConsole(routeKey string) bool {
	return routeKey == "GET /console" || routeKey == "GET /console/{proxy+}"
}

func (h *handler) console(req *apigw.Request) apigw.Response {
	name := "index.html"
	if req.RouteKey == "GET /console/{proxy+}" {
		name = req.PathParameters["proxy"]
	}
	typ, ok := consoleTypes[path.Ext(name)]
	if !ok || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return consoleText(http.StatusNotFound, "no such file in the console\n")
	}
	body, err := consoleFiles.ReadFile("console/" + name)
	if err != nil {
		return consoleText(http.StatusNotFound, "no such file in the console\n")
	}
	return apigw.Response{
		StatusCode: http.StatusOK,
		Headers:    consoleHeaders(typ),
		Body:       string(body),
	}
}

func consoleText(status int, msg string) apigw.Response {
	return apigw.Response{StatusCode: status, Headers: consoleHeaders("text/plain; charset=utf-8"), Body: msg}
}

func consoleHeaders(typ string) map[string]string {
	return map[string]string{
		"Content-Type":            typ,
		"Content-Security-Policy": consoleCSP,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-cache",
	}
}
