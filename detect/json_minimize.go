package detect

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Data minimisation: before a document is forwarded, Minimize checks it
// against the configured JSON Schema and field allowlist. Schema checks use
// github.com/santhosh-tekuri/jsonschema/v6 (every draft, with a test
// suite we would not want to re-derive); the allowlist is applied by the
// tokenizer in one pass so dropped fields leave the rest of the document
// byte for byte as it was.

// schemaURL names the configured schema inside the compiler.
const schemaURL = "urn:warden:json-schema"

// noLoader refuses to load anything: a configured schema must be
// self-contained, so compiling it reads no files and makes no requests.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s; only self-contained schemas are supported", url)
}

func compileSchema(text string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}

// Minimize applies the data-minimisation rules of o to doc: it checks the
// syntax and limits, then the schema (if any), then the field allowlist
// (if any). A field outside the allowlist is refused with a
// *JSONFieldError naming it, or dropped when o says "drop"; then the
// reduced document is returned (doc itself when nothing was dropped).
// Containers on the way to an allowed path are kept (possibly empty);
// dropping array elements renumbers the ones after them. A schema
// violation is a *JSONFieldError naming the failing path and keyword,
// never the value.
func (o *JSONOptions) Minimize(doc []byte) ([]byte, error) {
	if o == nil {
		d := defaultJSONOptions()
		o = &d
	}
	hasAllow := len(o.allow.pats) > 0
	if o.schema != nil {
		if err := ValidateJSON(doc, o); err != nil {
			return nil, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			// Unreachable: doc passed ValidateJSON.
			return nil, &JSONSyntaxError{Offset: 0, Msg: "document rejected by the schema decoder"}
		}
		if err := o.schema.Validate(inst); err != nil {
			return nil, schemaError(err, inst)
		}
	}
	if !hasAllow {
		if o.schema == nil {
			if err := ValidateJSON(doc, o); err != nil {
				return nil, err
			}
		}
		return doc, nil
	}
	w := getWalker(doc, o, walkMinimize)
	defer putWalker(w, o)
	if err := w.walk(); err != nil {
		return nil, err
	}
	return w.output(), nil
}

// schemaError turns a validation error into a JSONFieldError for its first
// basic failure. Only messages known not to quote the instance are kept;
// for the others the keyword alone is named.
func schemaError(err error, inst any) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &JSONFieldError{Path: "$", Reason: "rejected by the schema"}
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	path := []byte{'$'}
	v := inst
	for _, tok := range ve.InstanceLocation {
		switch t := v.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			path = appendPathIndex(path, i)
			if i >= 0 && i < len(t) {
				v = t[i]
			}
		case map[string]any:
			path = appendPathKey(path, []byte(tok))
			v = t[tok]
		default:
			path = appendPathKey(path, []byte(tok))
		}
	}
	var reason string
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		reason = "has type " + k.Got + ", schema wants " + strings.Join(k.Want, " or ")
	case *kind.Required:
		if len(k.Missing) > 0 {
			path = appendPathKey(path, []byte(k.Missing[0]))
		}
		reason = "is required by the schema"
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			path = appendPathKey(path, []byte(k.Properties[0]))
		}
		reason = "is not allowed by the schema (additionalProperties)"
	case *kind.MinLength:
		reason = fmt.Sprintf("has length %d, schema wants at least %d (minLength)", k.Got, k.Want)
	case *kind.MaxLength:
		reason = fmt.Sprintf("has length %d, schema wants at most %d (maxLength)", k.Got, k.Want)
	case *kind.MinItems:
		reason = fmt.Sprintf("has %d items, schema wants at least %d (minItems)", k.Got, k.Want)
	case *kind.MaxItems:
		reason = fmt.Sprintf("has %d items, schema wants at most %d (maxItems)", k.Got, k.Want)
	case *kind.FalseSchema:
		reason = "is rejected by the schema (false)"
	default:
		if kw := ve.ErrorKind.KeywordPath(); len(kw) > 0 {
			reason = "fails schema keyword " + strconv.Quote(strings.Join(kw, "/"))
		} else {
			reason = "is rejected by the schema"
		}
	}
	return &JSONFieldError{Path: string(path), Reason: reason}
}
