// Command warden is Warden's single binary: the gateway (serve) and the
// offline tools (detect, redact, restore, keys, vault, audit, model, …).
//
// main parses flags, loads configuration and wires packages together; it
// is the only place that reads the environment, prints to the terminal or
// exits.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK      = 0 // success
	exitFailure = 1 // the command ran and failed (or, for checks, found a problem)
	exitUsage   = 2 // bad flags, arguments or configuration; I/O errors
)

// cli is what a command may touch of the outside world.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stderrTTY reports whether stderr is a terminal (progress bars).
	stderrTTY bool
}

type command struct {
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
}

// commands is the table of subcommands. Each lives in its own file.
func commands() map[string]command {
	return map[string]command{
		"audit":   {"verify, export and inspect the tamper-evident audit log", runAudit},
		"detect":  {"find sensitive data in text, JSONL or JSON", runDetect},
		"doctor":  {"check config, store, keys, upstreams, clock and certificates; say what is wrong", runDoctor},
		"apikey":  {"create, list and revoke gateway API keys", runAPIKey},
		"model":   {"scan, sign and verify model artifacts", runModel},
		"migrate": {"apply the store's pending schema migrations (or list them: --dry-run)", runMigrate},
		"mcp":     {"run a stdio MCP server behind the gateway; approve and list pinned MCP tool definitions", runMCP},
		"redact":  {"de-identify text, JSON, JSONL or CSV", runRedact},
		"keys":    {"rotate, rewrap and inspect encryption keys", runKeys},
		"vault":   {"erase tokens: forget one value or shred a tenant", runVault},
		"restore": {"put original values back in place of tokens", runRestore},
		"policy":  {"test what the policy decides for a request", runPolicy},
		"probe":   {"throw the catalogue of boundary attacks at a gateway", runProbe},
		"serve":   {"run the gateway (OpenAI- and Anthropic-compatible)", runServe},
		"tls":     {"check the configured certificates: chains, names, expiry", runTLS},
		"version": {"print the version", runVersion},
	}
}

var version = "dev"

func runVersion(_ context.Context, c *cli, _ []string) int {
	fmt.Fprintln(c.stdout, "warden", version)
	return exitOK
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: warden <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Warden is the data-security layer between applications and AI models.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'warden <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure or a check that did not pass, 2 usage, configuration or I/O error.")
}

func main() {
	// WARDEN_CPUPROFILE=FILE writes a CPU profile of the command (for
	// the benchmarks in bench/).
	if p := os.Getenv("WARDEN_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:])
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrTTY: isTerminal(os.Stderr)}
	return runCLI(c, args)
}

// runCLI runs one command line against c (tests call it directly).
func runCLI(c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "warden: unknown command %q\n\n", args[0])
		usage(c.stderr)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd.run(ctx, c, args[1:])
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
