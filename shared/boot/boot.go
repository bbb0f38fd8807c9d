// Package boot does a function's cold-start wiring: it reads the environment once,
// builds the AWS configuration and the logger, and fails the init phase with a clear
// message when something is missing.
package boot

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/eventhub/eventhub/shared/awsapi"
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

// Logger returns the JSON logger that adds the Lambda request id to every record.
func Logger() *slog.Logger { return lambdacontext.NewLogger() }

// AWS returns the AWS configuration of a function from its environment: the region and
// the credentials Lambda sets (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) and the SDK's standard endpoint overrides (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE>, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).
//
// The functions call DynamoDB, SQS and EventBridge through shared/awsapi rather than
// the SDK's service clients: a function's credentials are always in its environment,
// and the SDK's generated service packages initialise large tables before main that
// took 1.4-2.1 ms of every cold start (make bench measures it).
func AWS() awsapi.Config {
	cfg := awsapi.FromEnv()
	var missing []string
	for name, v := range map[string]string{"AWS_REGION": cfg.Region, "AWS_ACCESS_KEY_ID": cfg.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY": cfg.Credentials.SecretAccessKey} {
		if v == "" {
			missing = append(missing, name+" is not set")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		Fail(fmt.Errorf("AWS configuration: %v", missing))
	}
	return cfg
}
