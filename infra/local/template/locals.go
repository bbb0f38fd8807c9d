package template

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Locals is the Resolver of the local stack: parameter values, pseudo parameters and
// the physical names and attributes the local stack gave its resources.
type Locals struct {
	Params    map[string]string // every declared parameter, defaults applied
	Region    string
	Account   string
	StackName string
	// Physical maps a resource's logical id to its attributes: "" holds what Ref gives
	// (a table or bus name, a queue URL), other keys what GetAtt gives ("Arn", ...).
	Physical map[string]map[string]string
}

// NewLocals returns Locals for t with the template's parameter defaults and the given
// overrides, validated against each parameter's constraints. Every problem is
// reported, each naming its parameter; values of NoEcho parameters are never shown.
func NewLocals(t *Template, region, account, stackName string, overrides map[string]string) (*Locals, error) {
	l := &Locals{
		Params:    make(map[string]string, len(t.Parameters)),
		Region:    region,
		Account:   account,
		StackName: stackName,
		Physical:  map[string]map[string]string{},
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		if _, ok := t.Parameters[name]; !ok {
			errs = append(errs, fmt.Errorf("parameter %s: not declared in the template", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
		p := t.Parameters[name]
		v, ok := overrides[name]
		if !ok {
			if !p.HasDefault {
				errs = append(errs, fmt.Errorf("parameter %s: no value given and no default", name))
				continue
			}
			v = p.Default
		}
		if err := p.Validate(v); err != nil {
			errs = append(errs, fmt.Errorf("parameter %s: %w", name, err))
			continue
		}
		l.Params[name] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// Validate checks a value against the parameter's type and constraints.
func (p Parameter) Validate(v string) error {
	show := strconv.Quote(v)
	if p.NoEcho {
		show = "the value"
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
		return fmt.Errorf("%s is not one of the allowed values %s", show, strings.Join(p.AllowedValues, ", "))
	}
	switch p.Type {
	case "Number":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("%s is not a number", show)
		}
		if p.MinValue != nil && f < *p.MinValue {
			return fmt.Errorf("%s is less than MinValue %v", show, *p.MinValue)
		}
		if p.MaxValue != nil && f > *p.MaxValue {
			return fmt.Errorf("%s is greater than MaxValue %v", show, *p.MaxValue)
		}
	case "String":
		if p.AllowedPattern != "" {
			// CloudFormation matches the pattern against the whole value.
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return fmt.Errorf("AllowedPattern %q: %w", p.AllowedPattern, err)
			}
			if !re.MatchString(v) {
				return fmt.Errorf("%s does not match AllowedPattern %s", show, p.AllowedPattern)
			}
		}
		n := utf8.RuneCountInString(v)
		if p.MinLength != nil && n < *p.MinLength {
			return fmt.Errorf("%s is shorter than MinLength %d", show, *p.MinLength)
		}
		if p.MaxLength != nil && n > *p.MaxLength {
			return fmt.Errorf("%s is longer than MaxLength %d", show, *p.MaxLength)
		}
	}
	return nil
}

// Set records an attribute of a resource: attr "" for what Ref gives.
func (l *Locals) Set(logicalID, attr, value string) {
	if l.Physical == nil {
		l.Physical = map[string]map[string]string{}
	}
	m := l.Physical[logicalID]
	if m == nil {
		m = map[string]string{}
		l.Physical[logicalID] = m
	}
	m[attr] = value
}

// Ref returns a pseudo parameter, a parameter's value or a resource's Ref value.
func (l *Locals) Ref(id string) (string, error) {
	if strings.HasPrefix(id, "AWS::") {
		return l.pseudo(id)
	}
	if v, ok := l.Params[id]; ok {
		return v, nil
	}
	if v, ok := l.Physical[id][""]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no value for Ref %s", id)
}

// GetAtt returns an attribute the local stack recorded with Set.
func (l *Locals) GetAtt(id, attr string) (string, error) {
	if v, ok := l.Physical[id][attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no value for GetAtt %s.%s", id, attr)
}

func (l *Locals) pseudo(id string) (string, error) {
	need := func(v, what string) (string, error) {
		if v == "" {
			return "", fmt.Errorf("%s: no %s set", id, what)
		}
		return v, nil
	}
	switch id {
	case "AWS::Region":
		return need(l.Region, "region")
	case "AWS::AccountId":
		return need(l.Account, "account")
	case "AWS::StackName":
		return need(l.StackName, "stack name")
	case "AWS::Partition":
		return Partition(l.Region), nil
	case "AWS::URLSuffix":
		if strings.HasPrefix(l.Region, "cn-") {
			return "amazonaws.com.cn", nil
		}
		return "amazonaws.com", nil
	case "AWS::StackId":
		if l.Region == "" || l.Account == "" || l.StackName == "" {
			return "", fmt.Errorf("%s: needs region, account and stack name", id)
		}
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
			Partition(l.Region), l.Region, l.Account, l.StackName), nil
	}
	return "", fmt.Errorf("pseudo parameter %s is not supported by the local stack", id)
}

// Partition returns the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
