// Package rules compiles and runs authorization rules written in CEL
// (cel.dev/cel-go) over a call: the caller's claims and principal, the
// method, the request headers, the peer's address and the request message
// with its real proto type. Rules are compiled and type-checked against the
// method's input type when the snapshot is built; a rule learns there
// whether it reads the request, so it can run before the body is read when
// it does not.
package rules

import (
	"context"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Variable names a rule may use.
const (
	VarClaims    = "claims"
	VarPrincipal = "principal"
	VarMethod    = "method"
	VarHeaders   = "headers"
	VarPeer      = "peer"
	VarRequest   = "request"
)

// costLimit bounds one evaluation (a rule is the operator's, but a regex
// over a large header could still be slow).
const costLimit = 1_000_000

// Compiler compiles rules; it keeps one CEL environment per request type.
// It is not safe for concurrent use (it runs while a snapshot is built).
type Compiler struct {
	base *cel.Env
	envs map[protoreflect.FullName]*cel.Env
	// compiled rules by expression and request type: an API's rule is
	// compiled once per input type, not once per method.
	done map[ruleKey]*Rule
}

type ruleKey struct {
	expr  string
	input protoreflect.FullName
}

// NewCompiler makes a compiler.
func NewCompiler() (*Compiler, error) {
	base, err := cel.NewEnv(
		cel.Variable(VarClaims, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(VarPrincipal, cel.StringType),
		cel.Variable(VarMethod, cel.StringType),
		cel.Variable(VarHeaders, cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable(VarPeer, cel.MapType(cel.StringType, cel.StringType)),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
	)
	if err != nil {
		return nil, err
	}
	return &Compiler{base: base, envs: map[protoreflect.FullName]*cel.Env{}, done: map[ruleKey]*Rule{}}, nil
}

// Compile compiles and type-checks expr for a method whose request is
// input. The rule must be a bool expression.
func (c *Compiler) Compile(expr string, input protoreflect.MessageDescriptor) (*Rule, error) {
	key := ruleKey{expr, input.FullName()}
	if r, ok := c.done[key]; ok {
		return r, nil
	}
	env, err := c.env(input)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, fmt.Errorf("%v", iss.Err())
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("the rule is a %s expression, want bool", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(costLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	r := &Rule{src: expr, prg: prg, uses: map[string]bool{}}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		switch ref.Name {
		case VarClaims, VarPrincipal, VarMethod, VarHeaders, VarPeer, VarRequest:
			r.uses[ref.Name] = true
		}
	}
	c.done[key] = r
	return r, nil
}

func (c *Compiler) env(input protoreflect.MessageDescriptor) (*cel.Env, error) {
	if env, ok := c.envs[input.FullName()]; ok {
		return env, nil
	}
	env, err := c.base.Extend(
		cel.TypeDescs(input.ParentFile()),
		cel.Variable(VarRequest, cel.ObjectType(string(input.FullName()))),
	)
	if err != nil {
		return nil, fmt.Errorf("request type %s: %v", input.FullName(), err)
	}
	c.envs[input.FullName()] = env
	return env, nil
}

// Rule is a compiled rule. It is safe for concurrent use.
type Rule struct {
	src  string
	prg  cel.Program
	uses map[string]bool
}

// String is the rule's source.
func (r *Rule) String() string { return r.src }

// UsesRequest reports whether the rule reads the request message (and so
// must run after the body is decoded).
func (r *Rule) UsesRequest() bool { return r.uses[VarRequest] }

// Uses reports whether the rule reads the named variable.
func (r *Rule) Uses(name string) bool { return r.uses[name] }

// Input is what a rule is evaluated over. Headers is called only when
// the rule reads headers.
type Input struct {
	Claims    map[string]any
	Principal string
	Method    string
	Headers   func() map[string]string
	PeerIP    string
	Request   proto.Message
}

// Eval runs the rule. A rule that fails to evaluate (a missing claim, a
// type error at run time) is an error, which callers treat as a denial.
func (r *Rule) Eval(ctx context.Context, in *Input) (bool, error) {
	out, _, err := r.prg.ContextEval(ctx, activation{in: in})
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the rule gave %v, not a bool", out)
	}
	return b, nil
}

// activation resolves a rule's variables from an Input as they are read.
type activation struct{ in *Input }

var emptyClaims = map[string]any{}

func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case VarClaims:
		if a.in.Claims == nil {
			return emptyClaims, true
		}
		return a.in.Claims, true
	case VarPrincipal:
		return a.in.Principal, true
	case VarMethod:
		return a.in.Method, true
	case VarHeaders:
		if a.in.Headers == nil {
			return map[string]string{}, true
		}
		return a.in.Headers(), true
	case VarPeer:
		return map[string]string{"ip": a.in.PeerIP}, true
	case VarRequest:
		if a.in.Request == nil {
			return nil, false
		}
		return a.in.Request, true
	}
	return nil, false
}

func (a activation) Parent() interpreter.Activation { return nil }

var _ interpreter.Activation = activation{}
