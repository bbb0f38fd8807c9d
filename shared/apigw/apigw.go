// Package apigw adapts eventhub's handlers to API Gateway HTTP API (payload format 2.0)
// requests and responses, and maps application errors to HTTP statuses.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventhub/eventhub/shared/fault"
)

// Response is the handler result type.
type Response = events.APIGatewayV2HTTPResponse

// Request is the handler input type.
type Request = events.APIGatewayV2HTTPRequest

// JSON returns a response with v encoded as the JSON body.
func JSON(status int, v any) Response {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"could not encode the response"}}`)
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(body),
	}
}

var statuses = map[fault.Code]int{
	fault.Invalid:          http.StatusBadRequest,
	fault.Unauthorized:     http.StatusUnauthorized,
	fault.Forbidden:        http.StatusForbidden,
	fault.NotFound:         http.StatusNotFound,
	fault.Conflict:         http.StatusConflict,
	fault.TooLarge:         http.StatusRequestEntityTooLarge,
	fault.UnsupportedMedia: http.StatusUnsupportedMediaType,
	fault.RateLimited:      http.StatusTooManyRequests,
}

// Status is the HTTP status for an error: its fault code's, or 500.
func Status(err error) int {
	if e, ok := fault.As(err); ok {
		if s, ok := statuses[e.Code]; ok {
			return s
		}
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error *fault.Error `json:"error"`
}

// Error turns err into a response. Application errors keep their message; anything else
// is logged and answered with a 500 that reveals nothing.
func Error(ctx context.Context, log *slog.Logger, err error) Response {
	if e, ok := fault.As(err); ok {
		resp := JSON(Status(err), ErrorBody{e})
		if e.Code == fault.Unauthorized {
			resp.Headers["www-authenticate"] = `Bearer realm="eventhub"`
		}
		if e.RetryAfter > 0 {
			resp.Headers["retry-after"] = strconv.Itoa(e.RetryAfter)
		}
		return resp
	}
	log.ErrorContext(ctx, "request failed", "error", err)
	return JSON(http.StatusInternalServerError, ErrorBody{&fault.Error{Code: "internal", Message: "internal error"}})
}

// Body returns the request body, decoding base64 when API Gateway encoded it.
func Body(req *Request) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fault.New(fault.Invalid, "body is not valid base64")
	}
	return b, nil
}

// Header returns a request header, whatever the case of its name.
func Header(req *Request, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// MediaType returns the lower-cased media type of the Content-Type header, without
// parameters.
func MediaType(req *Request) string {
	ct, _, _ := strings.Cut(Header(req, "content-type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}
