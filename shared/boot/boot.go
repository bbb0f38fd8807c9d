// Package boot does a function's cold-start wiring: it reads the environment once,
// builds the AWS configuration and the logger, and fails the init phase with a clear
// message when something is missing.
package boot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventhub/eventhub/shared/metrics"
	"github.com/eventhub/eventhub/shared/trace"
)

// Env reads configuration from the environment and collects every problem, so a
// misconfigured function reports all of them at once.
type Env struct {
	missing []string
}

// String returns a required variable.
func (e *Env) String(name string) string {
	v := os.Getenv(name)
	if v == "" {
		e.missing = append(e.missing, name+" is not set")
	}
	return v
}

// Optional returns a variable or def when it is unset.
func (e *Env) Optional(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// Int returns an integer variable or def when it is unset.
func (e *Env) Int(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.missing = append(e.missing, fmt.Sprintf("%s=%q is not an integer", name, v))
	}
	return n
}

// Fraction returns a number between 0 and 1, or def when it is unset.
func (e *Env) Fraction(name string, def float64) float64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		e.missing = append(e.missing, fmt.Sprintf("%s=%q is not a number between 0 and 1", name, v))
	}
	return f
}

// Bool returns a boolean variable or def when it is unset.
func (e *Env) Bool(name string, def bool) bool {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.missing = append(e.missing, fmt.Sprintf("%s=%q is not a boolean", name, v))
	}
	return b
}

// Days returns a number of days as a duration.
func (e *Env) Days(name string, def int) time.Duration {
	return time.Duration(e.Int(name, def)) * 24 * time.Hour
}

// Check ends the init phase with every problem found so far.
func (e *Env) Check() {
	if len(e.missing) > 0 {
		Fail(fmt.Errorf("configuration: %v", e.missing))
	}
}

// Fail reports an init error the way Lambda shows it (on stderr, exit status 1).
func Fail(err error) {
	fmt.Fprintf(os.Stderr, "init failed: %v\n", err)
	os.Exit(1)
}

// Logger returns the JSON logger that adds the Lambda request id and the X-Ray trace
// id to every record.
func Logger() *slog.Logger { return slog.New(trace.LogHandler(lambdacontext.NewLogHandler())) }

// Metrics returns the function's metric emitter: embedded metric format lines on
// stdout, next to its logs, under the function's name.
func Metrics() *metrics.Emitter {
	return metrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), time.Now)
}

// AWS returns the SDK configuration of a function from its environment: the region and
// the credentials Lambda sets (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) and the SDK's standard endpoint overrides (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE>, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), which the service
// clients resolve themselves, partitions included.
//
// It does not call config.LoadDefaultConfig. A function's credentials are always in its
// environment, and LoadDefaultConfig's other sources (shared config files, SSO, STS
// role chains, IMDS) would link clients that never run into every bootstrap and add
// to every cold start.
func AWS() aws.Config {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	creds := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "EnvConfigCredentials",
	}
	var missing []string
	for name, v := range map[string]string{"AWS_REGION": region, "AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey} {
		if v == "" {
			missing = append(missing, name+" is not set")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		Fail(fmt.Errorf("AWS configuration: %v", missing))
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		ConfigSources: []any{endpointEnv{}},
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" && !ignoreEndpoints() {
		cfg.BaseEndpoint = &u
	}
	return cfg
}

// endpointEnv gives the SDK's service clients the AWS_ENDPOINT_URL_<SERVICE> variables
// and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, as the config package's environment source
// does: each client asks its ConfigSources for its own base endpoint by SDK id.
type endpointEnv struct{}

// GetServiceBaseEndpoint is the SDK's service base endpoint provider
// (internal/configsources.ServiceBaseEndpointProvider): "DynamoDB" reads
// AWS_ENDPOINT_URL_DYNAMODB.
func (endpointEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if ignoreEndpoints() {
		return "", false, nil
	}
	name := "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	if v := os.Getenv(name); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints is the SDK's
// internal/configsources.IgnoreConfiguredEndpointsProvider.
func (endpointEnv) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, ok := os.LookupEnv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if !ok || v == "" {
		return false, false, nil
	}
	return ignoreEndpoints(), true, nil
}

func ignoreEndpoints() bool {
	b, _ := strconv.ParseBool(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
	return b
}
