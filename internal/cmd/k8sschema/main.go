// Command k8sschema writes the JSON schemas that scripts/deploy-check.sh
// gives kubeconform, so that the Helm chart is validated without
// fetching anything from the network.
//
// It reads the schemas from Go modules, which the Go module proxy serves:
// the Kubernetes OpenAPI v3 documents under api/openapi-spec/v3 of
// k8s.io/kubernetes, and the CustomResourceDefinitions of HTTPRoute
// (sigs.k8s.io/gateway-api, standard channel) and ServiceMonitor
// (github.com/prometheus-operator/prometheus-operator). For each kind the
// chart renders it writes one standalone, strict schema, laid out as
// kubeconform looks for it:
//
//	<out>/v<kubernetes>-standalone-strict/<kind>-<group>-<version>.json
//
// Standalone: every $ref is inlined. Strict: every object with listed
// properties refuses others (additionalProperties: false), unless the
// source marks it x-kubernetes-preserve-unknown-fields; apiVersion and
// kind must be the resource's own. Descriptions, defaults, formats and
// CEL rules are dropped: they are not checked and would make the files
// ten times larger. x-kubernetes-int-or-string and nullable are turned
// into the JSON Schema they mean.
//
// Run from the repository root (scripts/deploy-check.sh checks the output
// is what is committed):
//
//	go run ./internal/cmd/k8sschema -out deploy/schemas
//
// Bumping a version: change the flag default, rerun, commit the diff,
// and change KUBERNETES_VERSION in scripts/deploy-check.sh to match.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// kind is one resource the chart renders.
type kind struct {
	group, version, kind string
	// spec is the OpenAPI v3 document (core kinds) or CRD file (custom
	// resources), relative to its module's root.
	spec string
	// module is "kubernetes", "gateway-api" or "prometheus-operator".
	module string
}

var kinds = []kind{
	{"", "v1", "ConfigMap", "api/openapi-spec/v3/api__v1_openapi.json", "kubernetes"},
	{"", "v1", "PersistentVolumeClaim", "api/openapi-spec/v3/api__v1_openapi.json", "kubernetes"},
	{"", "v1", "Service", "api/openapi-spec/v3/api__v1_openapi.json", "kubernetes"},
	{"", "v1", "ServiceAccount", "api/openapi-spec/v3/api__v1_openapi.json", "kubernetes"},
	{"apps", "v1", "Deployment", "api/openapi-spec/v3/apis__apps__v1_openapi.json", "kubernetes"},
	{"batch", "v1", "Job", "api/openapi-spec/v3/apis__batch__v1_openapi.json", "kubernetes"},
	{"policy", "v1", "PodDisruptionBudget", "api/openapi-spec/v3/apis__policy__v1_openapi.json", "kubernetes"},
	{"networking.k8s.io", "v1", "Ingress", "api/openapi-spec/v3/apis__networking.k8s.io__v1_openapi.json", "kubernetes"},
	{"networking.k8s.io", "v1", "NetworkPolicy", "api/openapi-spec/v3/apis__networking.k8s.io__v1_openapi.json", "kubernetes"},
	{"gateway.networking.k8s.io", "v1", "HTTPRoute", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml", "gateway-api"},
	{"monitoring.coreos.com", "v1", "ServiceMonitor", "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml", "prometheus-operator"},
}

func main() {
	out := flag.String("out", "deploy/schemas", "output `directory`")
	k8s := flag.String("kubernetes", "v1.31.14", "k8s.io/kubernetes `version` whose OpenAPI documents are read")
	gw := flag.String("gateway-api", "v1.4.1", "sigs.k8s.io/gateway-api `version` (HTTPRoute CRD)")
	po := flag.String("prometheus-operator", "v0.85.0", "github.com/prometheus-operator/prometheus-operator `version` (ServiceMonitor CRD)")
	flag.Parse()
	modules := map[string]string{
		"kubernetes":          "k8s.io/kubernetes@" + *k8s,
		"gateway-api":         "sigs.k8s.io/gateway-api@" + *gw,
		"prometheus-operator": "github.com/prometheus-operator/prometheus-operator@" + *po,
	}
	if err := run(*out, *k8s, modules); err != nil {
		fmt.Fprintln(os.Stderr, "k8sschema:", err)
		os.Exit(1)
	}
}

func run(out, k8sVersion string, modules map[string]string) error {
	dirs := map[string]string{}
	for name, mod := range modules {
		d, err := moduleDir(mod)
		if err != nil {
			return err
		}
		dirs[name] = d
	}
	dir := filepath.Join(out, k8sVersion+"-standalone-strict")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	docs := map[string]map[string]any{} // OpenAPI documents by path, read once
	for _, k := range kinds {
		path := filepath.Join(dirs[k.module], k.spec)
		var s map[string]any
		var err error
		if k.module == "kubernetes" {
			doc, ok := docs[path]
			if !ok {
				if doc, err = readJSON(path); err != nil {
					return err
				}
				docs[path] = doc
			}
			s, err = coreSchema(doc, k)
		} else {
			s, err = crdSchema(path, k)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k.kind, err)
		}
		apiVersion := k.version
		if k.group != "" {
			apiVersion = k.group + "/" + k.version
		}
		props, _ := s["properties"].(map[string]any)
		if props == nil {
			return fmt.Errorf("%s: schema has no properties", k.kind)
		}
		props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
		props["kind"] = map[string]any{"type": "string", "enum": []any{k.kind}}
		s["$schema"] = "http://json-schema.org/draft-07/schema#"
		b, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fileName(k)), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fileName is the name kubeconform derives from apiVersion and kind:
// the kind in lower case, the first label of the group, the version.
func fileName(k kind) string {
	suffix := "-" + k.version
	if k.group != "" {
		suffix = "-" + strings.ToLower(strings.Split(k.group, ".")[0]) + "-" + k.version
	}
	return strings.ToLower(k.kind) + suffix + ".json"
}

// moduleDir downloads mod (path@version) into the module cache, or
// finds it there, and returns its directory. It runs outside this
// module so that go.mod and go.sum are left alone.
func moduleDir(mod string) (string, error) {
	tmp, err := os.MkdirTemp("", "k8sschema")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(b, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", mod, err, strings.TrimSpace(stderr.String()))
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no directory in its answer", mod)
	}
	return info.Dir, nil
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, nil
}

// coreSchema finds k's schema in an OpenAPI v3 document by its
// x-kubernetes-group-version-kind and inlines it.
func coreSchema(doc map[string]any, k kind) (map[string]any, error) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if schemas == nil {
		return nil, errors.New("document has no components.schemas")
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s, _ := schemas[n].(map[string]any)
		gvks, _ := s["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			g, _ := g.(map[string]any)
			if g["group"] == k.group && g["version"] == k.version && g["kind"] == k.kind {
				c := &converter{schemas: schemas, active: map[string]bool{}}
				out, err := c.convert(s)
				if err != nil {
					return nil, err
				}
				m, _ := out.(map[string]any)
				return m, nil
			}
		}
	}
	return nil, errors.New("not in the OpenAPI document")
}

// crdSchema reads the openAPIV3Schema of k's version from a CRD file.
func crdSchema(path string, k kind) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if crd.Spec.Group != k.group || crd.Spec.Names.Kind != k.kind {
		return nil, fmt.Errorf("%s defines %s in %s", path, crd.Spec.Names.Kind, crd.Spec.Group)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == k.version {
			c := &converter{active: map[string]bool{}}
			out, err := c.convert(v.Schema.OpenAPIV3Schema)
			if err != nil {
				return nil, err
			}
			m, _ := out.(map[string]any)
			return m, nil
		}
	}
	return nil, fmt.Errorf("%s has no version %s", path, k.version)
}

// converter turns an OpenAPI schema into a standalone strict JSON
// Schema.
type converter struct {
	schemas map[string]any  // components.schemas, for $ref
	active  map[string]bool // refs being inlined, to refuse cycles
}

// kept are the keywords copied as they are; every other one (description,
// default, format, example, x-kubernetes-*) is dropped.
var kept = map[string]bool{
	"type": true, "enum": true, "required": true, "pattern": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true,
	"minItems": true, "maxItems": true, "uniqueItems": true,
	"minProperties": true, "maxProperties": true,
}

func (c *converter) convert(node any) (any, error) {
	s, ok := node.(map[string]any)
	if !ok {
		return node, nil
	}
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		target, ok := c.schemas[name]
		if !ok {
			return nil, fmt.Errorf("unresolved $ref %s", ref)
		}
		if c.active[name] {
			return nil, fmt.Errorf("$ref %s is recursive", ref)
		}
		c.active[name] = true
		defer delete(c.active, name)
		return c.convert(target)
	}
	out := map[string]any{}
	for k, v := range s {
		if kept[k] {
			out[k] = v
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		p := make(map[string]any, len(props))
		for name, sub := range props {
			cv, err := c.convert(sub)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			p[name] = cv
		}
		out["properties"] = p
	}
	if items, ok := s["items"]; ok {
		cv, err := c.convert(items)
		if err != nil {
			return nil, err
		}
		out["items"] = cv
	}
	switch ap := s["additionalProperties"].(type) {
	case bool:
		out["additionalProperties"] = ap
	case map[string]any:
		cv, err := c.convert(ap)
		if err != nil {
			return nil, err
		}
		out["additionalProperties"] = cv
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := s[key].([]any)
		if !ok {
			continue
		}
		l := make([]any, 0, len(list))
		for _, sub := range list {
			cv, err := c.convert(sub)
			if err != nil {
				return nil, err
			}
			l = append(l, cv)
		}
		out[key] = l
	}
	if not, ok := s["not"]; ok {
		cv, err := c.convert(not)
		if err != nil {
			return nil, err
		}
		out["not"] = cv
	}
	if s["x-kubernetes-int-or-string"] == true {
		delete(out, "type")
		out["oneOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
	}
	_, hasProps := out["properties"]
	_, hasAP := out["additionalProperties"]
	if hasProps && !hasAP && s["x-kubernetes-preserve-unknown-fields"] != true {
		out["additionalProperties"] = false
	}
	if s["nullable"] == true {
		if t, ok := out["type"].(string); ok {
			out["type"] = []any{t, "null"}
		}
	}
	// {allOf: [X]} with nothing beside it (what a $ref with a
	// description becomes) is X.
	if all, ok := out["allOf"].([]any); ok && len(all) == 1 && len(out) == 1 {
		return all[0], nil
	}
	return out, nil
}
