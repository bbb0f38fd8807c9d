package stack

import (
	"maps"
	"slices"
	"strings"
)

// SAMEnv is the content of an env.json for `sam local invoke --env-vars`: for each
// function (by logical id), the variables the template declares for it with the
// values this stack gives them, so that a function SAM runs in its container reaches
// this stack's emulators and tables. SAM overrides only declared variables, which is
// why the template declares the AWS_ENDPOINT_URL_* ones. host replaces 127.0.0.1 in
// every value: inside SAM's container the machine running the stack is
// host.docker.internal. extra values (such as an admin token hash) win.
func (st *Stack) SAMEnv(host string, extra map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, f := range st.Template.Functions {
		given := map[string]string{}
		for _, kv := range st.fnCfg[f.LogicalID].Env {
			k, v, _ := strings.Cut(kv, "=")
			given[k] = v // later entries win, as for the process
		}
		vars := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
			v, ok := extra[k]
			if !ok {
				v = strings.ReplaceAll(given[k], "127.0.0.1", host)
			}
			vars[k] = v
		}
		out[f.LogicalID] = vars
	}
	return out
}
