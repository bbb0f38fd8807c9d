// Package awsapi is a small client for the JSON protocols of the AWS services the
// functions call (DynamoDB, SQS, EventBridge): a signed POST with X-Amz-Target, the
// standard retries, and errors that carry the service's error code.
//
// It exists for cold starts. The SDK's generated service packages
// (github.com/aws/aws-sdk-go-v2/service/...) initialise large schema and endpoint
// tables before main in every process that links them, which cost the bootstraps
// 1.4-2.1 ms of every cold start; this package links only the SDK's core (credentials
// and the SigV4 signer), whose package initialisation is negligible. Its subpackages
// dynamodb, sqs and eventbridge mirror the shapes of the SDK's clients for the calls
// eventhub makes, so that code written against them reads like SDK code.
package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Config is what every client needs: the region, the credentials and where each
// service is.
type Config struct {
	Region      string
	Credentials aws.Credentials
	// BaseEndpoint, when set, is the endpoint of every service without one of its
	// own in ServiceEndpoints (AWS_ENDPOINT_URL).
	BaseEndpoint string
	// ServiceEndpoints maps a service's SDK id upper-cased with spaces as
	// underscores ("DYNAMODB", "SQS", "EVENTBRIDGE") to its endpoint
	// (AWS_ENDPOINT_URL_<SERVICE>).
	ServiceEndpoints map[string]string
	// HTTPClient sends the requests; nil is a client of its own with connection
	// reuse.
	HTTPClient *http.Client
	// MaxAttempts bounds the attempts of one call (0 is 3, as the SDK's standard
	// retryer).
	MaxAttempts int
	// Backoff returns the delay before attempt n+1 after n failed ones (nil is the
	// SDK's exponential backoff with full jitter).
	Backoff func(attempt int) time.Duration
}

// FromEnv returns the configuration the environment gives: AWS_REGION (or
// AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// and the SDK's endpoint overrides AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
func FromEnv() Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	cfg := Config{
		Region: region,
		Credentials: aws.Credentials{
			AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
			Source:          "EnvConfigCredentials",
		},
	}
	if ignore, _ := strconv.ParseBool(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")); ignore {
		return cfg
	}
	cfg.BaseEndpoint = os.Getenv("AWS_ENDPOINT_URL")
	for _, kv := range os.Environ() {
		name, v, _ := strings.Cut(kv, "=")
		if svc, ok := strings.CutPrefix(name, "AWS_ENDPOINT_URL_"); ok && v != "" {
			if cfg.ServiceEndpoints == nil {
				cfg.ServiceEndpoints = map[string]string{}
			}
			cfg.ServiceEndpoints[svc] = v
		}
	}
	return cfg
}

// Service describes one AWS service's JSON protocol.
type Service struct {
	// SDKID is the service's SDK id ("DynamoDB", "SQS", "EventBridge"), which names its
	// endpoint variable.
	SDKID string
	// SigningName is the service name in SigV4 ("dynamodb", "sqs", "events") and the
	// first label of its default endpoint.
	SigningName string
	// TargetPrefix comes before the operation in X-Amz-Target ("DynamoDB_20120810").
	TargetPrefix string
	// JSONVersion is the version of application/x-amz-json ("1.0" or "1.1").
	JSONVersion string
}

// Endpoint returns the endpoint of the service under cfg: its own override, the base
// override, or https://<signing name>.<region>.amazonaws.com.
func (cfg Config) Endpoint(svc Service) string {
	if u := cfg.ServiceEndpoints[strings.ReplaceAll(strings.ToUpper(svc.SDKID), " ", "_")]; u != "" {
		return u
	}
	if cfg.BaseEndpoint != "" {
		return cfg.BaseEndpoint
	}
	return "https://" + svc.SigningName + "." + cfg.Region + ".amazonaws.com"
}

// Client calls one service.
type Client struct {
	cfg      Config
	svc      Service
	endpoint string
	http     *http.Client
	signer   *v4.Signer
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// defaultHTTP is shared by the clients that bring none, so that the functions' calls to
// every service reuse one pool of connections.
var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          100,
	MaxIdleConnsPerHost:   32,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
}}

// New returns a client of the service.
func New(cfg Config, svc Service) *Client {
	c := &Client{cfg: cfg, svc: svc, endpoint: strings.TrimRight(cfg.Endpoint(svc), "/"), http: cfg.HTTPClient, signer: v4.NewSigner(), now: time.Now, sleep: sleep}
	if c.http == nil {
		c.http = defaultHTTP
	}
	if c.cfg.MaxAttempts <= 0 {
		c.cfg.MaxAttempts = 3
	}
	if c.cfg.Backoff == nil {
		c.cfg.Backoff = jitterBackoff
	}
	return c
}

// Endpoint is where the client sends its requests.
func (c *Client) Endpoint() string { return c.endpoint }

// jitterBackoff is the SDK's standard backoff: a random delay up to 2^attempt seconds,
// capped at 20 s.
func jitterBackoff(attempt int) time.Duration {
	ceiling := 20 * time.Second
	if attempt < 5 {
		ceiling = time.Second << attempt
	}
	return time.Duration(rand.Int64N(int64(ceiling)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Do calls the operation with in marshalled to JSON and unmarshals the answer into out
// (nil to discard it). It retries throttling, 5xx answers and transport errors, and
// returns a failure of the service as an *Error.
func (c *Client) Do(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s %s: encode request: %w", c.svc.SDKID, op, err)
	}
	header := http.Header{
		"Content-Type": {"application/x-amz-json-" + c.svc.JSONVersion},
		"X-Amz-Target": {c.svc.TargetPrefix + "." + op},
	}
	return c.send(ctx, op, "/", header, body, out)
}

// Post calls an operation of a REST-JSON protocol (Lambda's Invoke): a signed POST of
// body to path with the headers, retried as Do retries, the answer unmarshalled into
// out unless out is nil.
func (c *Client) Post(ctx context.Context, op, path string, header http.Header, body []byte, out any) error {
	return c.send(ctx, op, path, header, body, out)
}

func (c *Client) send(ctx context.Context, op, path string, header http.Header, body []byte, out any) error {
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, op, path, header, body, hash)
		if err == nil {
			if out == nil || len(bytes.TrimSpace(resp)) == 0 {
				return nil
			}
			if err := json.Unmarshal(resp, out); err != nil {
				return fmt.Errorf("%s %s: decode response: %w", c.svc.SDKID, op, err)
			}
			return nil
		}
		lastErr = err
		if ctx.Err() != nil || !Retryable(err) || attempt >= c.cfg.MaxAttempts {
			break
		}
		if err := c.sleep(ctx, c.cfg.Backoff(attempt)); err != nil {
			break
		}
	}
	var ae *Error
	if errors.As(lastErr, &ae) {
		return lastErr
	}
	return fmt.Errorf("%s %s: %w", c.svc.SDKID, op, lastErr)
}

func (c *Client) attempt(ctx context.Context, op, path string, header http.Header, body []byte, hash string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "eventhub-awsapi")
	if err := c.signer.SignHTTP(ctx, c.cfg.Credentials, req, hash, c.svc.SigningName, c.cfg.Region, c.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &transportError{err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &transportError{err}
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	return nil, parseError(c.svc.SDKID, op, resp, data)
}

// transportError is a request that got no answer (connection refused or reset, a
// truncated body); it is retried.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// Error is a failure the service answered with.
type Error struct {
	Service    string // the SDK id of the service
	Operation  string
	StatusCode int
	// Code is the AWS error code: the shape name after '#' in __type, or the query
	// compatible code of SQS's x-amzn-query-error header.
	Code      string
	Message   string
	RequestID string
	// Body is the answer, for the fields of a particular error (a DynamoDB
	// ConditionalCheckFailedException's Item).
	Body []byte
}

func (e *Error) Error() string {
	return fmt.Sprintf("operation error %s: %s, https response error StatusCode: %d, RequestID: %s, %s: %s",
		e.Service, e.Operation, e.StatusCode, e.RequestID, e.Code, e.Message)
}

// ErrorCode is the AWS error code (smithy-go's APIError has the same method).
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the error's message.
func (e *Error) ErrorMessage() string { return e.Message }

func parseError(service, op string, resp *http.Response, data []byte) *Error {
	e := &Error{Service: service, Operation: op, StatusCode: resp.StatusCode, Body: data,
		RequestID: resp.Header.Get("X-Amzn-Requestid")}
	var body struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(data, &body)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = body.Type
	}
	if code == "" {
		code = body.Code
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	e.Code = code
	e.Message = body.Message
	if e.Message == "" {
		e.Message = body.Message2
	}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode)
	}
	return e
}

// throttleCodes are the codes the SDK's standard retryer treats as throttling.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true,
	"EC2ThrottledException": true,
}

// IsThrottle reports whether err is a throttling error.
func IsThrottle(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && (throttleCodes[ae.Code] || ae.StatusCode == http.StatusTooManyRequests)
}

// Retryable reports whether the SDK's standard retryer would try the call again after
// err: throttling, a 500, 502, 503 or 504, a request timeout, or no answer at all.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ae *Error
	if !errors.As(err, &ae) {
		return false
	}
	if IsThrottle(err) || ae.Code == "RequestTimeout" || ae.Code == "RequestTimeoutException" {
		return true
	}
	switch ae.StatusCode {
	case 500, 502, 503, 504:
		return true
	}
	return false
}
