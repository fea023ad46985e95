// Command crm is the CRM MCP server of the agent example: one customer
// record behind two tools, served over Streamable HTTP with the official
// Go MCP SDK. It stands for any MCP server an agent reaches through
// Warden, and knows nothing about Warden.
//
//	CRM_MCP_TOKEN=secret crm -addr 127.0.0.1:8000
//
// Every request must carry Authorization: Bearer $CRM_MCP_TOKEN (Warden
// injects it; the agent never has it). lookup_customer returns the record
// with real values; update_ticket prints to stderr exactly the arguments
// it received, one line each — that is what "the tool received" in
// examples/agent/run.sh.
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// customer is the record lookup_customer returns.
type customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	Note  string `json:"note"`
}

// The one customer the CRM knows. Fake values, but shaped like real ones,
// so Warden's detectors find them.
var dana = customer{
	ID:    "C-1042",
	Name:  "Dana Whitlock",
	Email: "dana.whitlock@example.net",
	Phone: "+1 415 555 0142",
	Note:  "Prefers email. Renewal due in March.",
}

type lookupArgs struct {
	CustomerID string `json:"customer_id" jsonschema:"the customer's id, e.g. C-1042"`
}

type ticketArgs struct {
	TicketID string `json:"ticket_id" jsonschema:"the ticket's id, e.g. T-7"`
	Email    string `json:"email" jsonschema:"the contact email to set on the ticket"`
	Note     string `json:"note" jsonschema:"a note to add to the ticket"`
}

type ticketResult struct {
	TicketID string `json:"ticket_id"`
	Status   string `json:"status"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("crm", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8000", "listen `address`; port 0 picks a free one (see -addr-file)")
	addrFile := fs.String("addr-file", "", "write the bound host:port to this `file` once listening")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	token := getenv("CRM_MCP_TOKEN")
	if token == "" {
		fmt.Fprintln(stderr, "crm: CRM_MCP_TOKEN is not set")
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(stderr, "crm: -addr:", err)
		return 2
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			fmt.Fprintln(stderr, "crm: -addr-file:", err)
			return 2
		}
	}
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return newServer(stderr) }, nil)
	srv := &http.Server{Handler: requireBearer(token, mcpHandler), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintln(stderr, "crm: serving MCP at http://"+ln.Addr().String()+"/mcp")
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "crm:", err)
			return 1
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	return 0
}

// requireBearer refuses requests without the CRM's own token.
func requireBearer(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// newServer returns the CRM's MCP server; update_ticket logs to log.
func newServer(log io.Writer) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "crm", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "lookup_customer", Description: "Look up a customer record by id."},
		func(ctx context.Context, req *mcp.CallToolRequest, in lookupArgs) (*mcp.CallToolResult, customer, error) {
			if in.CustomerID != dana.ID {
				return nil, customer{}, fmt.Errorf("no customer with that id")
			}
			// The SDK sends the record as structured content and as
			// its JSON text.
			return nil, dana, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "update_ticket", Description: "Set a ticket's contact email and add a note."},
		func(ctx context.Context, req *mcp.CallToolRequest, in ticketArgs) (*mcp.CallToolResult, ticketResult, error) {
			// Exactly what the tool received, for the demo's
			// "What the tool received".
			line, _ := json.Marshal(in)
			fmt.Fprintf(log, "update_ticket received: %s\n", line)
			return nil, ticketResult{TicketID: in.TicketID, Status: "updated"}, nil
		})
	return s
}
