package eventbridge

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	jsonv2 "github.com/go-json-experiment/json"
)

// state is what the API created, as the state file keeps it.
type state struct {
	Rules           []savedRule       `json:"rules"`
	Connections     []*connection     `json:"connections"`
	APIDestinations []*apiDestination `json:"apiDestinations"`
}

type savedRule struct {
	Name         string
	EventBusName string
	EventPattern string
	State        string
	Description  string `json:",omitempty"`
	Targets      []types.Target
}

// Load reads the state file (Options.StateFile), if there is one, and adds what it
// holds: the rules made through the API with their targets, connections and API
// destinations. A rule on a bus the template no longer declares, or named like a
// rule of the template, is logged and left out; a target that no longer resolves
// is kept, and its deliveries fail.
func (e *Emulator) Load() error {
	if e.stateFile == "" {
		return nil
	}
	data, err := os.ReadFile(e.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load the EventBridge state: %w", err)
	}
	var st state
	if err := jsonv2.Unmarshal(data, &st, wire); err != nil {
		return fmt.Errorf("load the EventBridge state %s: %w", e.stateFile, err)
	}
	e.res.Lock()
	defer e.res.Unlock()
	for _, c := range st.Connections {
		e.connections[c.Name] = c
	}
	for _, d := range st.APIDestinations {
		e.destinations[d.Name] = d
	}
	for _, sr := range st.Rules {
		log := e.log.With("rule", sr.Name, "bus", sr.EventBusName)
		if e.buses[sr.EventBusName] == nil {
			log.Warn("rule made through the API is on a bus the template no longer declares; left out")
			continue
		}
		if e.rules[sr.EventBusName][sr.Name] != nil {
			log.Warn("rule made through the API has the name of a rule of the template; the template's is kept")
			continue
		}
		m, err := compilePattern(sr.EventPattern)
		if err != nil {
			log.Warn("rule made through the API has a pattern that no longer compiles; left out", "err", err)
			continue
		}
		r := &rule{name: sr.Name, bus: sr.EventBusName, pattern: sr.EventPattern, matcher: m, state: sr.State, description: sr.Description, fromAPI: true}
		for _, spec := range sr.Targets {
			t, err := e.newTarget(spec)
			if err != nil {
				log.Warn("rule target cannot be delivered to locally; its deliveries fail", "targetId", deref(spec.Id), "err", err)
			}
			r.targets = append(r.targets, t)
		}
		e.rules[r.bus][r.name] = r
	}
	e.log.Info("loaded rules made through the EventBridge API", "file", e.stateFile, "rules", len(st.Rules), "connections", len(st.Connections), "apiDestinations", len(st.APIDestinations))
	return nil
}

// saveLocked rewrites the state file, if there is one; the caller holds e.res.
func (e *Emulator) saveLocked() error {
	if e.stateFile == "" {
		return nil
	}
	st := state{Rules: []savedRule{}, Connections: []*connection{}, APIDestinations: []*apiDestination{}}
	for _, b := range sortedKeys(e.rules) {
		for _, name := range sortedKeys(e.rules[b]) {
			r := e.rules[b][name]
			if !r.fromAPI {
				continue
			}
			sr := savedRule{Name: r.name, EventBusName: r.bus, EventPattern: r.pattern, State: r.state, Description: r.description, Targets: []types.Target{}}
			for _, t := range r.targets {
				sr.Targets = append(sr.Targets, t.spec)
			}
			st.Rules = append(st.Rules, sr)
		}
	}
	for _, name := range sortedKeys(e.connections) {
		st.Connections = append(st.Connections, e.connections[name])
	}
	for _, name := range sortedKeys(e.destinations) {
		st.APIDestinations = append(st.APIDestinations, e.destinations[name])
	}
	data, err := jsonv2.Marshal(st, wire)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(e.stateFile), 0o700); err != nil {
		return fmt.Errorf("save the EventBridge state: %w", err)
	}
	tmp := e.stateFile + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("save the EventBridge state: %w", err)
	}
	if err := os.Rename(tmp, e.stateFile); err != nil {
		return fmt.Errorf("save the EventBridge state: %w", err)
	}
	return nil
}
