package catalog

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"buf.build/go/protoyaml"
	"github.com/portico-gw/portico/config"
	"go.yaml.in/yaml/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/api/serviceconfig"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rule is one http.rules entry of a gRPC API Configuration file, with the
// place it was written, so that errors and route conflicts can name it.
type Rule struct {
	// HTTP is the rule; its selector names one method.
	HTTP *annotations.HttpRule
	// Field is the config key of the file, such as "http_rules[0]".
	Field string
	// File is the rules file's path; Line and Column (from 1) locate the
	// rule in it.
	File         string
	Line, Column int

	// at locates the rule and each of its additional bindings.
	at map[*annotations.HttpRule]position
}

type position struct{ line, column int }

// Rules are the HTTP rules of the rules files, by selector (a method's full
// name). A rule here replaces the method's google.api.http annotation.
type Rules map[string]*Rule

// where is the rule's place as text, "file:line:column".
func (r *Rule) where() string {
	return fmt.Sprintf("%s:%d:%d", r.File, r.Line, r.Column)
}

// errorAt returns a problem about sub (the rule or one of its additional
// bindings), located where sub is written.
func (r *Rule) errorAt(sub *annotations.HttpRule, format string, args ...any) *config.Error {
	p, ok := r.at[sub]
	if !ok {
		p = position{r.Line, r.Column}
	}
	return &config.Error{Field: r.Field, File: r.File, Line: p.line, Column: p.column, Message: fmt.Sprintf(format, args...)}
}

// LoadHTTPRules reads gRPC API Configuration files (YAML, type:
// google.api.Service; paths[i] is the config's http_rules[i]) and returns
// their http.rules by selector.
//
// The files are read strictly: a key that is not a field of
// google.api.Service (a misspelt "htttp:", a "gett:" in a rule) is an error
// with its line and column, as is a wrong type or a "type:" other than
// google.api.Service. A selector must name one method (no wildcards), and a
// selector given twice is an error. Errors are config.Errors, every one
// found.
func LoadHTTPRules(paths []string) (Rules, error) {
	rules, err := ReadHTTPRules(paths)
	if err != nil {
		return nil, err
	}
	return rules, nil
}

// ReadHTTPRules is LoadHTTPRules that returns, with its error, the rules
// that did load (the well-formed rules of the files that could be read),
// so that a check can go on with them (portico validate).
func ReadHTTPRules(paths []string) (Rules, error) {
	rules := Rules{}
	var probs problems
	for i, p := range paths {
		field := fmt.Sprintf("http_rules[%d]", i)
		svc, at, ok := readServiceConfig(&probs, field, p)
		if !ok {
			continue
		}
		for _, r := range svc.GetHttp().GetRules() {
			pos := at[r]
			rule := &Rule{HTTP: r, Field: field, File: p, Line: pos.line, Column: pos.column, at: at}
			sel := strings.TrimSpace(r.GetSelector())
			switch {
			case sel == "":
				probs.addErr(rule.errorAt(r, "rule has no selector (want the full name of a method, such as package.Service.Method)"))
				continue
			case strings.ContainsAny(sel, "*, "):
				probs.addErr(rule.errorAt(r, "selector %q must name one method, without wildcards", sel))
				continue
			}
			if prev, dup := rules[sel]; dup {
				probs.addErr(rule.errorAt(r, "selector %q already has a rule at %s", sel, prev.where()))
				continue
			}
			rules[sel] = rule
		}
	}
	return rules, probs.err()
}

// readServiceConfig decodes one rules file. at locates every HttpRule
// decoded (rules and additional bindings).
func readServiceConfig(probs *problems, field, path string) (*serviceconfig.Service, map[*annotations.HttpRule]position, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		probs.add(field, "%s", statError(path, err))
		return nil, nil, false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlSyntaxError(err)
		probs.addAt(field, path, line, 0, "%s", msg)
		return nil, nil, false
	}
	if doc.Kind == 0 || len(doc.Content) == 1 && doc.Content[0].Tag == "!!null" {
		probs.addAt(field, path, 0, 0, "the file is empty (want type: google.api.Service with http.rules)")
		return nil, nil, false
	}
	svc := &serviceconfig.Service{}
	rec := &recorder{root: svc, at: map[*annotations.HttpRule]position{}}
	err = protoyaml.UnmarshalOptions{Path: path, CustomUnmarshaler: rec}.Unmarshal(data, svc)
	for _, e := range rec.errs {
		probs.addAt(field, path, e.line, e.column, "%s", e.msg)
	}
	if err != nil {
		for _, e := range splitJoined(err) {
			line, col, msg := nodeError(path, e)
			probs.addAt(field, path, line, col, "%s", msg)
		}
	}
	if err != nil || len(rec.errs) > 0 {
		return nil, nil, false
	}
	return svc, rec.at, true
}

// recorder is a protoyaml.CustomUnmarshaler that decodes nothing itself:
// it sees each message's YAML node before protoyaml decodes it, and
//   - notes where each HttpRule is written;
//   - takes the top-level "type" key, which belongs to the gRPC API
//     Configuration format rather than to google.api.Service, out of the way;
//   - reports unknown keys with the closest field name as a hint (protoyaml
//     would list every field, truncated) and takes them out of the way.
type recorder struct {
	root proto.Message
	at   map[*annotations.HttpRule]position
	errs []nodeProblem
}

type nodeProblem struct {
	line, column int
	msg          string
}

func (r *recorder) Unmarshal(node *yaml.Node, msg proto.Message) (bool, error) {
	if hr, ok := msg.(*annotations.HttpRule); ok {
		r.at[hr] = position{node.Line, node.Column}
	}
	md := msg.ProtoReflect().Descriptor()
	if node.Kind != yaml.MappingNode || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		// Not fields by name (a well-known type such as Struct has keys
		// of its own): protoyaml's checks apply.
		return false, nil
	}
	kept := node.Content[:0:0]
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		switch {
		case msg == r.root && k.Value == "type":
			if v.Value != "google.api.Service" {
				r.errs = append(r.errs, nodeProblem{v.Line, v.Column, fmt.Sprintf("type: got %q, want google.api.Service", v.Value)})
			}
			continue
		case k.Kind == yaml.ScalarNode && !isField(md, k.Value):
			r.errs = append(r.errs, nodeProblem{k.Line, k.Column, unknownKeyMessage(k.Value, md)})
			continue
		}
		kept = append(kept, k, v)
	}
	node.Content = kept
	return false, nil
}

// isField reports whether key names a field of md the way protoyaml finds
// fields: by JSON name, proto name or number; "[ext]" keys are left to it.
func isField(md protoreflect.MessageDescriptor, key string) bool {
	fields := md.Fields()
	if strings.HasPrefix(key, "[") || fields.ByJSONName(key) != nil || fields.ByTextName(key) != nil {
		return true
	}
	n, err := strconv.ParseInt(key, 10, 32)
	return err == nil && fields.ByNumber(protoreflect.FieldNumber(n)) != nil
}

func unknownKeyMessage(key string, md protoreflect.MessageDescriptor) string {
	names := make([]string, md.Fields().Len())
	for i := range names {
		names[i] = string(md.Fields().Get(i).Name())
	}
	if s := config.Suggest(key, names); s != "" {
		return fmt.Sprintf("unknown key %q in %s (did you mean %q?)", key, md.FullName(), s)
	}
	sort.Strings(names)
	return fmt.Sprintf("unknown key %q in %s (known: %s)", key, md.FullName(), strings.Join(names, ", "))
}

// splitJoined returns the errors joined in err (protoyaml joins one per
// problem), or err alone.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError returns the line and the message of a YAML parse error.
func yamlSyntaxError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return line, "not valid YAML: " + m[2]
	}
	return 0, "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")
}

// nodeError returns the position and the message of one of protoyaml's
// errors. protoyaml does not export its error type: its message starts
// with "path:line:column " and wraps the cause, which is what is said here.
func nodeError(path string, err error) (line, column int, msg string) {
	text := err.Error()
	cause := errors.Unwrap(err)
	if cause == nil {
		return 0, 0, text
	}
	if rest, ok := strings.CutPrefix(text, path+":"); ok {
		fmt.Sscanf(rest, "%d:%d", &line, &column)
	}
	return line, column, cause.Error()
}
