package stack

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// LocalEnv is what .eventhub/local.env exports for a running stack: the API, its
// tokens and bus, and what the AWS CLI and SDKs need to reach the emulators (their
// AWS_ENDPOINT_URL_<SERVICE>, the region and dummy credentials).
func (st *Stack) LocalEnv(producerToken string) map[string]string {
	return map[string]string{
		"EVENTHUB_API":                 st.APIURL,
		"EVENTHUB_ADMIN_TOKEN":         st.AdminToken,
		"EVENTHUB_TOKEN":               producerToken,
		"EVENTHUB_BUS":                 st.Bus,
		"AWS_ENDPOINT_URL_EVENTBRIDGE": st.EventBridge,
		"AWS_ENDPOINT_URL_SQS":         st.SQS,
		"AWS_ENDPOINT_URL_DYNAMODB":    st.DynamoDB,
		"AWS_ENDPOINT_URL_LAMBDA":      st.Lambda,
		"AWS_REGION":                   Region,
		"AWS_DEFAULT_REGION":           Region,
		"AWS_ACCESS_KEY_ID":            "local",
		"AWS_SECRET_ACCESS_KEY":        "local",
	}
}

// WriteEnvFile writes vars as a file a shell sources (. .eventhub/local.env). make run
// rewrites it at every start.
func WriteEnvFile(path string, vars map[string]string) error {
	var b strings.Builder
	b.WriteString("# written by `make run` at every start; source it: . .eventhub/local.env\n")
	b.WriteString("# The AWS_* variables point the AWS CLI (2.13+, 1.29+) and SDKs at the local stack,\n")
	b.WriteString("# with dummy credentials: use this shell for local work only.\n")
	b.WriteString("unset AWS_PROFILE AWS_SESSION_TOKEN\n")
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&b, "export %s=%s\n", k, vars[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
