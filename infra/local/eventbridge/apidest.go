package eventbridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/go-json-experiment/json/jsontext"
)

// apiDestinationTimeout is EventBridge's client execution timeout for API
// destinations: a slower endpoint is timed out and retried.
const apiDestinationTimeout = 5 * time.Second

// connection is an EventBridge connection: how to authorize against endpoints. Its
// auth holds the secrets; AWS keeps them in Secrets Manager, the emulator in its
// state file (mode 0600), and neither ever returns them.
type connection struct {
	Name              string
	ARN               string
	Description       string `json:",omitempty"`
	AuthorizationType types.ConnectionAuthorizationType
	Auth              types.CreateConnectionAuthRequestParameters
	Created, Modified time.Time
}

// apiDestination is an HTTP endpoint events are sent to, with a connection.
type apiDestination struct {
	Name          string
	ARN           string
	Description   string `json:",omitempty"`
	ConnectionARN string
	Endpoint      string
	Method        types.ApiDestinationHttpMethod
	RateLimit     int32 `json:",omitempty"`
	Created       time.Time
	Modified      time.Time
}

func (e *Emulator) resourceARN(kind, name string) string {
	return "arn:aws:events:" + e.region + ":" + e.account + ":" + kind + "/" + name + "/" + newUUID()
}

// apiDestinationName returns the name in an API destination's ARN.
func (e *Emulator) apiDestinationName(arn string) (string, bool) {
	prefix := "arn:aws:events:" + e.region + ":" + e.account + ":api-destination/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, name != ""
}

func (e *Emulator) createConnection(in *sdk.CreateConnectionInput) (*sdk.CreateConnectionOutput, error) {
	if err := checkName("name", in.Name, maxRuleNameLength); err != nil {
		return nil, err
	}
	a := in.AuthParameters
	if a == nil {
		return nil, validationf("1 validation error detected: Value null at 'authParameters' failed to satisfy constraint: Member must not be null")
	}
	switch in.AuthorizationType {
	case types.ConnectionAuthorizationTypeBasic:
		if a.BasicAuthParameters == nil || deref(a.BasicAuthParameters.Username) == "" || deref(a.BasicAuthParameters.Password) == "" {
			return nil, validationf("BasicAuthParameters with Username and Password are required for AuthorizationType BASIC.")
		}
	case types.ConnectionAuthorizationTypeApiKey:
		if a.ApiKeyAuthParameters == nil || deref(a.ApiKeyAuthParameters.ApiKeyName) == "" || deref(a.ApiKeyAuthParameters.ApiKeyValue) == "" {
			return nil, validationf("ApiKeyAuthParameters with ApiKeyName and ApiKeyValue are required for AuthorizationType API_KEY.")
		}
	case types.ConnectionAuthorizationTypeOauthClientCredentials:
		return nil, validationf("AuthorizationType OAUTH_CLIENT_CREDENTIALS is not supported by the local stack's EventBridge emulator: use BASIC or API_KEY locally.")
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]", in.AuthorizationType)
	}
	e.res.Lock()
	defer e.res.Unlock()
	if e.connections[*in.Name] != nil {
		return nil, &apiError{http.StatusBadRequest, errAlreadyExists, fmt.Sprintf("Connection %s already exists.", *in.Name)}
	}
	now := e.now().UTC()
	c := &connection{
		Name: *in.Name, ARN: e.resourceARN("connection", *in.Name), Description: deref(in.Description),
		AuthorizationType: in.AuthorizationType, Auth: *a, Created: now, Modified: now,
	}
	e.connections[c.Name] = c
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.CreateConnectionOutput{
		ConnectionArn: ptr(c.ARN), ConnectionState: types.ConnectionStateAuthorized,
		CreationTime: ptr(c.Created), LastModifiedTime: ptr(c.Modified),
	}, nil
}

func (e *Emulator) connectionOf(name *string) (*connection, error) {
	return lookup(e.connections, name, "Failed to describe the connection(s). Connection '%s' does not exist.")
}

// lookup finds a named resource; notFound is the message (with the name) when it
// does not exist.
func lookup[T any](m map[string]*T, name *string, notFound string) (*T, error) {
	if err := checkName("name", name, maxRuleNameLength); err != nil {
		return nil, err
	}
	v := m[*name]
	if v == nil {
		return nil, notFoundf(notFound, *name)
	}
	return v, nil
}

func (e *Emulator) describeConnection(in *sdk.DescribeConnectionInput) (*sdk.DescribeConnectionOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	c, err := e.connectionOf(in.Name)
	if err != nil {
		return nil, err
	}
	return &sdk.DescribeConnectionOutput{
		Name: ptr(c.Name), ConnectionArn: ptr(c.ARN), Description: optional(c.Description),
		ConnectionState: types.ConnectionStateAuthorized, AuthorizationType: c.AuthorizationType,
		AuthParameters: c.withoutSecrets(),
		SecretArn:      ptr("arn:aws:secretsmanager:" + e.region + ":" + e.account + ":secret:events!connection/" + c.Name),
		CreationTime:   ptr(c.Created), LastModifiedTime: ptr(c.Modified), LastAuthorizedTime: ptr(c.Created),
	}, nil
}

// withoutSecrets is the connection's auth as DescribeConnection shows it: no
// password, no API key value, no secret parameter values.
func (c *connection) withoutSecrets() *types.ConnectionAuthResponseParameters {
	out := &types.ConnectionAuthResponseParameters{}
	if b := c.Auth.BasicAuthParameters; b != nil {
		out.BasicAuthParameters = &types.ConnectionBasicAuthResponseParameters{Username: b.Username}
	}
	if k := c.Auth.ApiKeyAuthParameters; k != nil {
		out.ApiKeyAuthParameters = &types.ConnectionApiKeyAuthResponseParameters{ApiKeyName: k.ApiKeyName}
	}
	if p := c.Auth.InvocationHttpParameters; p != nil {
		hp := &types.ConnectionHttpParameters{}
		for _, h := range p.HeaderParameters {
			if h.IsValueSecret {
				h.Value = nil
			}
			hp.HeaderParameters = append(hp.HeaderParameters, h)
		}
		for _, q := range p.QueryStringParameters {
			if q.IsValueSecret {
				q.Value = nil
			}
			hp.QueryStringParameters = append(hp.QueryStringParameters, q)
		}
		for _, b := range p.BodyParameters {
			if b.IsValueSecret {
				b.Value = nil
			}
			hp.BodyParameters = append(hp.BodyParameters, b)
		}
		out.InvocationHttpParameters = hp
	}
	return out
}

func (e *Emulator) listConnections(in *sdk.ListConnectionsInput) (*sdk.ListConnectionsOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	var all []string
	if in.ConnectionState == "" || in.ConnectionState == types.ConnectionStateAuthorized { // local connections are authorized at once
		all = sortedKeys(e.connections)
	}
	names, next, err := listing(all, in.NamePrefix, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdk.ListConnectionsOutput{Connections: []types.Connection{}, NextToken: next}
	for _, name := range names {
		c := e.connections[name]
		out.Connections = append(out.Connections, types.Connection{
			Name: ptr(c.Name), ConnectionArn: ptr(c.ARN), ConnectionState: types.ConnectionStateAuthorized,
			AuthorizationType: c.AuthorizationType, CreationTime: ptr(c.Created), LastModifiedTime: ptr(c.Modified),
			LastAuthorizedTime: ptr(c.Created),
		})
	}
	return out, nil
}

func (e *Emulator) deleteConnection(in *sdk.DeleteConnectionInput) (*sdk.DeleteConnectionOutput, error) {
	e.res.Lock()
	defer e.res.Unlock()
	c, err := e.connectionOf(in.Name)
	if err != nil {
		return nil, err
	}
	delete(e.connections, c.Name)
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.DeleteConnectionOutput{
		ConnectionArn: ptr(c.ARN), ConnectionState: types.ConnectionStateDeleting,
		CreationTime: ptr(c.Created), LastModifiedTime: ptr(e.now().UTC()),
	}, nil
}

func (e *Emulator) createAPIDestination(in *sdk.CreateApiDestinationInput) (*sdk.CreateApiDestinationOutput, error) {
	if err := checkName("name", in.Name, maxRuleNameLength); err != nil {
		return nil, err
	}
	if in.ConnectionArn == nil {
		return nil, validationf("1 validation error detected: Value null at 'connectionArn' failed to satisfy constraint: Member must not be null")
	}
	u, err := url.Parse(deref(in.InvocationEndpoint))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, validationf("1 validation error detected: Value '%s' at 'invocationEndpoint' failed to satisfy constraint: Member must be an HTTPS URL", deref(in.InvocationEndpoint))
	}
	switch in.HttpMethod {
	case types.ApiDestinationHttpMethodPost, types.ApiDestinationHttpMethodGet, types.ApiDestinationHttpMethodHead,
		types.ApiDestinationHttpMethodOptions, types.ApiDestinationHttpMethodPut, types.ApiDestinationHttpMethodPatch,
		types.ApiDestinationHttpMethodDelete:
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]", in.HttpMethod)
	}
	e.res.Lock()
	defer e.res.Unlock()
	if e.connectionByARN(*in.ConnectionArn) == nil {
		return nil, notFoundf("Connection '%s' does not exist.", *in.ConnectionArn)
	}
	if e.destinations[*in.Name] != nil {
		return nil, &apiError{http.StatusBadRequest, errAlreadyExists, fmt.Sprintf("An api-destination '%s' already exists.", *in.Name)}
	}
	if u.Scheme == "http" {
		e.log.Warn("API destination endpoint is not HTTPS: AWS requires HTTPS; the local stack also takes http:// for local receivers", "apiDestination", *in.Name)
	}
	now := e.now().UTC()
	d := &apiDestination{
		Name: *in.Name, ARN: e.resourceARN("api-destination", *in.Name), Description: deref(in.Description),
		ConnectionARN: *in.ConnectionArn, Endpoint: u.String(), Method: in.HttpMethod,
		RateLimit: deref(in.InvocationRateLimitPerSecond), Created: now, Modified: now,
	}
	e.destinations[d.Name] = d
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.CreateApiDestinationOutput{
		ApiDestinationArn: ptr(d.ARN), ApiDestinationState: types.ApiDestinationStateActive,
		CreationTime: ptr(d.Created), LastModifiedTime: ptr(d.Modified),
	}, nil
}

func (e *Emulator) connectionByARN(arn string) *connection {
	for _, c := range e.connections {
		if c.ARN == arn {
			return c
		}
	}
	return nil
}

func (e *Emulator) destinationOf(name *string) (*apiDestination, error) {
	return lookup(e.destinations, name, "Failed to describe the api-destination(s). An api-destination '%s' does not exist.")
}

func (e *Emulator) describeAPIDestination(in *sdk.DescribeApiDestinationInput) (*sdk.DescribeApiDestinationOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	d, err := e.destinationOf(in.Name)
	if err != nil {
		return nil, err
	}
	return &sdk.DescribeApiDestinationOutput{
		Name: ptr(d.Name), ApiDestinationArn: ptr(d.ARN), Description: optional(d.Description),
		ApiDestinationState: types.ApiDestinationStateActive, ConnectionArn: ptr(d.ConnectionARN),
		InvocationEndpoint: ptr(d.Endpoint), HttpMethod: d.Method, InvocationRateLimitPerSecond: optional(d.RateLimit),
		CreationTime: ptr(d.Created), LastModifiedTime: ptr(d.Modified),
	}, nil
}

func (e *Emulator) listAPIDestinations(in *sdk.ListApiDestinationsInput) (*sdk.ListApiDestinationsOutput, error) {
	e.res.RLock()
	defer e.res.RUnlock()
	var all []string
	for _, name := range sortedKeys(e.destinations) {
		if in.ConnectionArn == nil || *in.ConnectionArn == e.destinations[name].ConnectionARN {
			all = append(all, name)
		}
	}
	names, next, err := listing(all, in.NamePrefix, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &sdk.ListApiDestinationsOutput{ApiDestinations: []types.ApiDestination{}, NextToken: next}
	for _, name := range names {
		d := e.destinations[name]
		out.ApiDestinations = append(out.ApiDestinations, types.ApiDestination{
			Name: ptr(d.Name), ApiDestinationArn: ptr(d.ARN), ApiDestinationState: types.ApiDestinationStateActive,
			ConnectionArn: ptr(d.ConnectionARN), InvocationEndpoint: ptr(d.Endpoint), HttpMethod: d.Method,
			InvocationRateLimitPerSecond: optional(d.RateLimit), CreationTime: ptr(d.Created), LastModifiedTime: ptr(d.Modified),
		})
	}
	return out, nil
}

func (e *Emulator) deleteAPIDestination(in *sdk.DeleteApiDestinationInput) (*sdk.DeleteApiDestinationOutput, error) {
	e.res.Lock()
	defer e.res.Unlock()
	d, err := e.destinationOf(in.Name)
	if err != nil {
		return nil, err
	}
	delete(e.destinations, d.Name)
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &sdk.DeleteApiDestinationOutput{}, nil
}

// httpTarget sends events to an API destination, with its connection's
// authorization, through the emulator's guarded HTTP client.
type httpTarget struct {
	e           *Emulator
	destination string
	params      *types.HttpParameters // the rule target's
}

func (t *httpTarget) Send(ctx context.Context, body []byte) error {
	req, name, err := t.request(ctx, body)
	if err != nil {
		return err
	}
	resp, err := t.e.http.Do(req)
	if err != nil {
		return fmt.Errorf("API destination %s: %w", name, withoutURL(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusTooManyRequests || s >= 500:
		return fmt.Errorf("API destination %s answered HTTP %d", name, s)
	default: // 1xx, 3xx and 4xx other than 429 are not retried
		return fmt.Errorf("API destination %s answered HTTP %d: %w", name, s, errNoRetry)
	}
}

// request builds the request for one event: the destination's method and endpoint
// (path parameters filled in), the target's and the connection's headers and query
// parameters (the connection's win), the connection's authorization, and the body
// with the connection's body parameters added when it is a JSON object.
func (t *httpTarget) request(ctx context.Context, body []byte) (*http.Request, string, error) {
	t.e.res.RLock()
	d := t.e.destinations[t.destination]
	var c *connection
	if d != nil {
		c = t.e.connectionByARN(d.ConnectionARN)
	}
	t.e.res.RUnlock()
	if d == nil {
		return nil, t.destination, fmt.Errorf("API destination %s does not exist", t.destination)
	}
	if c == nil {
		return nil, d.Name, fmt.Errorf("API destination %s: its connection %s does not exist", d.Name, d.ConnectionARN)
	}
	endpoint := d.Endpoint
	headers := http.Header{}
	query := url.Values{}
	if p := t.params; p != nil {
		for _, v := range p.PathParameterValues {
			endpoint = strings.Replace(endpoint, "*", url.PathEscape(v), 1)
		}
		for k, v := range p.HeaderParameters {
			headers.Set(k, v)
		}
		for k, v := range p.QueryStringParameters {
			query.Set(k, v)
		}
	}
	if p := c.Auth.InvocationHttpParameters; p != nil {
		for _, h := range p.HeaderParameters {
			headers.Set(deref(h.Key), deref(h.Value))
		}
		for _, q := range p.QueryStringParameters {
			query.Set(deref(q.Key), deref(q.Value))
		}
		if len(p.BodyParameters) > 0 && jsontext.Value(bytes.TrimSpace(body)).Kind() == '{' {
			body = addMembers(body, p.BodyParameters)
		}
	}
	switch c.AuthorizationType {
	case types.ConnectionAuthorizationTypeBasic:
		b := c.Auth.BasicAuthParameters
		headers.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(deref(b.Username)+":"+deref(b.Password))))
	case types.ConnectionAuthorizationTypeApiKey:
		k := c.Auth.ApiKeyAuthParameters
		headers.Set(deref(k.ApiKeyName), deref(k.ApiKeyValue))
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, d.Name, fmt.Errorf("API destination %s: endpoint: %w", d.Name, errNoRetry)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if d.Method != types.ApiDestinationHttpMethodGet && d.Method != types.ApiDestinationHttpMethodHead {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, string(d.Method), u.String(), rd)
	if err != nil {
		return nil, d.Name, fmt.Errorf("API destination %s: %w", d.Name, errors.Join(withoutURL(err), errNoRetry))
	}
	for k, vs := range headers {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return req, d.Name, nil
}

// addMembers adds the connection's body parameters to a JSON object body.
func addMembers(body []byte, params []types.ConnectionBodyParameter) []byte {
	obj := bytes.TrimSpace(body)
	inner := bytes.TrimSpace(obj[1 : len(obj)-1])
	out := append([]byte{'{'}, inner...)
	for _, p := range params {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, quote(deref(p.Key))...)
		out = append(out, ':')
		out = append(out, quote(deref(p.Value))...)
	}
	return append(out, '}')
}

// withoutURL drops the URL from an HTTP client error: an endpoint's query may hold
// an API key, and errors go to logs and dead-letter attributes.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func optional[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
