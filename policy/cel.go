package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/google/cel-go/parser"
)

// newEnv declares the variables and helper macros rules may use.
func newEnv() (*cel.Env, error) {
	counts := cel.MapType(cel.StringType, cel.IntType)
	env, err := cel.NewEnv(
		cel.Variable("principal", cel.StringType),
		cel.Variable("roles", cel.ListType(cel.StringType)),
		cel.Variable("tenant", cel.StringType),
		cel.Variable("model", cel.StringType),
		cel.Variable("endpoint", cel.StringType),
		cel.Variable("zone", cel.StringType),
		cel.Variable("findings", counts),
		cel.Variable("categories", counts),
		cel.Variable("server", cel.StringType),
		cel.Variable("tool", cel.StringType),
		cel.Variable("args_findings", counts),
		cel.Variable("result_findings", counts),
		cel.Macros(
			cel.GlobalMacro("count", 1, countMacro("findings")),
			cel.GlobalMacro("category_count", 1, countMacro("categories")),
			cel.GlobalMacro("has_finding", 1, hasMacro("findings")),
			cel.GlobalMacro("has_category", 1, hasMacro("categories")),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("policy: building the CEL environment: %w", err)
	}
	return env, nil
}

// countMacro expands count(k) into `k in m ? m[k] : 0`, so that a missing
// key reads as zero instead of failing the rule.
func countMacro(m string) parser.MacroExpander {
	return func(eh parser.ExprHelper, _ ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
		k := args[0]
		return eh.NewCall(operators.Conditional,
			eh.NewCall(operators.In, k, eh.NewIdent(m)),
			eh.NewCall(operators.Index, eh.NewIdent(m), eh.Copy(k)),
			eh.NewLiteral(types.Int(0)),
		), nil
	}
}

// hasMacro expands has_finding(k) into `k in m && m[k] > 0`.
func hasMacro(m string) parser.MacroExpander {
	return func(eh parser.ExprHelper, _ ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
		k := args[0]
		return eh.NewCall(operators.LogicalAnd,
			eh.NewCall(operators.In, k, eh.NewIdent(m)),
			eh.NewCall(operators.Greater,
				eh.NewCall(operators.Index, eh.NewIdent(m), eh.Copy(k)),
				eh.NewLiteral(types.Int(0))),
		), nil
	}
}

// compileWhen compiles one condition and returns its program and facts
// about it (see compiledRule).
func compileWhen(env *cel.Env, src string) (cel.Program, whenFacts, error) {
	checked, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, whenFacts{}, errors.New(strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, whenFacts{}, fmt.Errorf("expression has type %s, want bool", checked.OutputType())
	}
	prg, err := env.Program(checked,
		cel.EvalOptions(cel.OptOptimize),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return nil, whenFacts{}, err
	}
	cost, err := env.EstimateCost(checked, sizeEstimator{})
	if err != nil {
		return nil, whenFacts{}, fmt.Errorf("estimating cost: %w", err)
	}
	if cost.Max > costLimit {
		return nil, whenFacts{}, fmt.Errorf("worst-case cost %d exceeds the limit %d (nested loops over roles or findings?)", cost.Max, costLimit)
	}
	f := whenFacts{literals: make(map[string]bool)}
	ast.PreOrderVisit(checked.NativeRep().Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.LiteralKind:
			if s, ok := e.AsLiteral().(types.String); ok {
				f.literals[string(s)] = true
			}
		case ast.IdentKind:
			switch e.AsIdent() {
			case "findings", "categories", "args_findings":
				f.readsFindings = true
			case "result_findings":
				f.readsFindings, f.readsResult = true, true
			case "zone":
				f.readsZone = true
			}
		case ast.ComprehensionKind:
			f.loops = true
		}
	}))
	return prg, f, nil
}

// whenFacts are what Decide needs to know about a condition beyond its program.
type whenFacts struct {
	// literals are the string constants in the condition; a deny names
	// the input's types that appear here (by type or category).
	literals map[string]bool
	// readsFindings is set when the condition reads findings or categories.
	readsFindings bool
	// readsZone is set when the condition reads zone.
	readsZone bool
	// readsResult is set when the condition reads result_findings.
	readsResult bool
	// loops is set when the condition has a comprehension (exists, all,
	// map, filter…), the only construct whose time grows with the input
	// and so the only one worth watching for a deadline.
	loops bool
}

// sizeEstimator bounds the variables for the static cost estimate by the
// input limits that DecideContext enforces.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	p := n.Path()
	if len(p) == 0 {
		return nil
	}
	var max uint64
	switch {
	case len(p) == 1 && (p[0] == "roles"):
		max = maxRoles
	case len(p) == 1 && (p[0] == "findings" || p[0] == "categories"):
		max = maxKeys
	case len(p) == 2 && (p[0] == "findings" || p[0] == "categories") && p[1] == "@keys":
		max = maxKeyLen
	default:
		max = maxString
	}
	return &checker.SizeEstimate{Min: 0, Max: max}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// activation exposes an Input to CEL without building a map per request.
type activation struct {
	in    *Input
	empty map[string]int
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "principal":
		return a.in.Principal, true
	case "roles":
		if a.in.Roles == nil {
			return []string{}, true
		}
		return a.in.Roles, true
	case "tenant":
		return a.in.Tenant, true
	case "model":
		return a.in.Model, true
	case "endpoint":
		return a.in.Endpoint, true
	case "zone":
		return a.in.Zone, true
	case "findings":
		if a.in.Findings == nil {
			return a.empty, true
		}
		return a.in.Findings, true
	case "categories":
		if a.in.Categories == nil {
			return a.empty, true
		}
		return a.in.Categories, true
	case "server":
		return a.in.Server, true
	case "tool":
		return a.in.Tool, true
	case "args_findings":
		if a.in.ArgsFindings == nil {
			return a.empty, true
		}
		return a.in.ArgsFindings, true
	case "result_findings":
		if a.in.ResultFindings == nil {
			return a.empty, true
		}
		return a.in.ResultFindings, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
