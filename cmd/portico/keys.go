package main

// portico keys: the managed API keys, through a running gateway's admin
// API (gRPC on the admin listener, with the admin token).

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	adminv1 "github.com/portico-gw/portico/gen/portico/admin/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// keysOptions are the flags of portico keys.
type keysOptions struct {
	admin, token                  string
	json                          bool
	provider, id, principal, plan string
	apis                          listFlag
	expires                       string
	grace                         time.Duration
	graceSet                      bool
	timeout                       time.Duration
	sub                           string
	stdout, stderr                io.Writer
	client                        adminv1.AdminClient
	ctx                           context.Context
}

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// keysFlags are the flags portico help keys lists (each with its
// environment variable).
var keysFlags = []flagSpec{
	{long: "admin", arg: "ADDR", help: "the gateway's admin listener (host:port, or https://host:port)"},
	{long: "admin-token", arg: "TOKEN", help: "the admin token (admin.token_file's content)"},
	{long: "provider", arg: "NAME", help: "the api_key provider (needed when the config has several)", noEnv: true},
	{long: "id", arg: "ID", help: "create: the key's id (default: made up)", noEnv: true},
	{long: "principal", arg: "NAME", help: "create: who the key stands for (default: its id)", noEnv: true},
	{long: "plan", arg: "NAME", help: "create: its usage plan", noEnv: true},
	{long: "api", arg: "SERVICE", help: "create: a service it may call (repeat; default: all)", noEnv: true},
	{long: "expires", arg: "WHEN", help: "create: when it stops working (RFC 3339 time, or a duration from now)", noEnv: true},
	{long: "grace", arg: "DURATION", help: "rotate: how long the old secret keeps working (default 24h; 0: none)", noEnv: true},
	{long: "json", help: "print the admin API's answer as JSON", noEnv: true},
}

// keysCmd runs portico keys SUBCOMMAND [ID] [flags].
func keysCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := lookup("keys")
	if len(args) == 0 {
		return usageFailed(stderr, usagef("keys", "keys: which? create, list, revoke, rotate or usage"))
	}
	if a := args[0]; a == "-h" || a == "-help" || a == "--help" {
		commandHelp(stdout, c)
		return exitOK
	}
	o := &keysOptions{sub: args[0], stdout: stdout, stderr: stderr, timeout: 10 * time.Second}
	switch o.sub {
	case "create", "list", "revoke", "rotate", "usage":
	default:
		return usageFailed(stderr, usagef("keys", "keys: unknown subcommand %q (create, list, revoke, rotate, usage)", o.sub))
	}
	if err := o.parse(args[1:], getenv); err != nil {
		if errors.Is(err, errHelp) {
			commandHelp(stdout, c)
			return exitOK
		}
		return usageFailed(stderr, err)
	}
	return o.run()
}

// parse reads the flags (before and after the id) and the environment.
func (o *keysOptions) parse(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("portico keys "+o.sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.admin, "admin", "", "")
	fs.StringVar(&o.token, "admin-token", "", "")
	fs.StringVar(&o.provider, "provider", "", "")
	fs.StringVar(&o.id, "id", "", "")
	fs.StringVar(&o.principal, "principal", "", "")
	fs.StringVar(&o.plan, "plan", "", "")
	fs.Var(&o.apis, "api", "")
	fs.StringVar(&o.expires, "expires", "", "")
	fs.DurationVar(&o.grace, "grace", 24*time.Hour, "")
	fs.BoolVar(&o.json, "json", false, "")
	var ids []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp
			}
			return usagef("keys", "keys %s: %v", o.sub, err)
		}
		if fs.NArg() == 0 {
			break
		}
		ids = append(ids, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { o.graceSet = o.graceSet || f.Name == "grace" })
	for _, f := range []struct {
		v    *string
		spec flagSpec
	}{{&o.admin, keysFlags[0]}, {&o.token, keysFlags[1]}} {
		if *f.v == "" {
			*f.v = getenv(f.spec.env())
		}
	}
	switch {
	case o.admin == "":
		return usagef("keys", "keys %s: --admin ADDR is required (or PORTICO_ADMIN)", o.sub)
	case o.sub == "create" || o.sub == "list":
		if len(ids) > 0 {
			return usagef("keys", "keys %s: unexpected argument %q", o.sub, ids[0])
		}
	case len(ids) != 1:
		return usagef("keys", "keys %s: name one key: portico keys %s ID", o.sub, o.sub)
	default:
		o.id = ids[0]
	}
	return nil
}

// run dials the admin listener and runs the subcommand.
func (o *keysOptions) run() int {
	addr, creds := o.admin, insecure.NewCredentials()
	switch {
	case strings.HasPrefix(addr, "https://"):
		addr, creds = strings.TrimPrefix(addr, "https://"), credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	case strings.HasPrefix(addr, "http://"):
		addr = strings.TrimPrefix(addr, "http://")
	}
	conn, err := grpc.NewClient(strings.TrimSuffix(addr, "/"), grpc.WithTransportCredentials(creds))
	if err != nil {
		return o.fail(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if o.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.token)
	}
	o.ctx, o.client = ctx, adminv1.NewAdminClient(conn)
	var resp proto.Message
	switch o.sub {
	case "create":
		resp, err = o.create()
	case "list":
		resp, err = o.client.ListApiKeys(ctx, &adminv1.ListApiKeysRequest{Provider: o.provider})
	case "revoke":
		resp, err = o.client.RevokeApiKey(ctx, &adminv1.RevokeApiKeyRequest{Id: o.id, Provider: o.provider})
	case "rotate":
		req := &adminv1.RotateApiKeyRequest{Id: o.id, Provider: o.provider}
		if o.graceSet {
			req.GracePeriod = durationpb.New(o.grace)
		}
		resp, err = o.client.RotateApiKey(ctx, req)
	case "usage":
		resp, err = o.client.GetUsage(ctx, &adminv1.GetUsageRequest{Id: o.id, Provider: o.provider})
	}
	if err != nil {
		return o.fail(err)
	}
	if o.json {
		return o.printJSON(resp)
	}
	o.printText(resp)
	return exitOK
}

func (o *keysOptions) create() (proto.Message, error) {
	k := &adminv1.ApiKey{Id: o.id, Provider: o.provider, Principal: o.principal, Plan: o.plan, Apis: o.apis}
	if o.expires != "" {
		if d, err := time.ParseDuration(o.expires); err == nil {
			k.ExpireTime = timestamppb.New(time.Now().Add(d))
		} else if t, err := time.Parse(time.RFC3339, o.expires); err == nil {
			k.ExpireTime = timestamppb.New(t)
		} else {
			return nil, fmt.Errorf("--expires %q: want an RFC 3339 time or a duration", o.expires)
		}
	}
	return o.client.CreateApiKey(o.ctx, &adminv1.CreateApiKeyRequest{Key: k})
}

// fail reports an error of the admin API (or of reaching it).
func (o *keysOptions) fail(err error) int {
	if st, ok := status.FromError(err); ok {
		fmt.Fprintf(o.stderr, "portico keys %s: %s: %s\n", o.sub, st.Code(), st.Message())
	} else {
		fmt.Fprintf(o.stderr, "portico keys %s: %v\n", o.sub, err)
	}
	return exitFailure
}

// printJSON prints the answer as the admin API's REST door would, indented.
func (o *keysOptions) printJSON(m proto.Message) int {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return o.fail(err)
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return o.fail(err)
	}
	if err := enc.Encode(v); err != nil {
		return o.fail(err)
	}
	fmt.Fprint(o.stdout, out.String())
	return exitOK
}

// printText prints the answer for people.
func (o *keysOptions) printText(m proto.Message) {
	w := o.stdout
	switch r := m.(type) {
	case *adminv1.ApiKeySecret:
		k := r.GetKey()
		verb := "created"
		if o.sub == "rotate" {
			verb = "rotated"
		}
		fmt.Fprintf(w, "%s key %s (provider %s, principal %s, plan %s)\n", verb, k.GetId(), k.GetProvider(), k.GetPrincipal(), orDash(k.GetPlan()))
		fmt.Fprintf(w, "secret: %s\n", r.GetSecret())
		if o.sub == "rotate" {
			if t := k.GetPreviousSecretExpireTime(); t != nil {
				fmt.Fprintf(w, "the old secret works until %s\n", t.AsTime().UTC().Format(time.RFC3339))
			} else {
				fmt.Fprintln(w, "the old secret no longer works")
			}
		}
		fmt.Fprintln(w, "The secret is shown this once: only its SHA-256 is stored.")
	case *adminv1.ListApiKeysResponse:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROVIDER\tID\tPRINCIPAL\tPLAN\tENABLED\tSOURCE\tEXPIRES")
		for _, k := range r.GetKeys() {
			source := "managed"
			if k.GetSource() == adminv1.ApiKeySource_API_KEY_SOURCE_FILE {
				source = "keys_file"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\t%s\n", k.GetProvider(), k.GetId(), k.GetPrincipal(), orDash(k.GetPlan()),
				k.GetEnabled(), source, timeOrDash(k.GetExpireTime()))
		}
		_ = tw.Flush()
	case *adminv1.RevokeApiKeyResponse:
		fmt.Fprintf(w, "revoked key %s\n", o.id)
	case *adminv1.Usage:
		fmt.Fprintf(w, "key %s (provider %s), plan %s\n", r.GetId(), r.GetProvider(), orDash(r.GetPlan()))
		if len(r.GetLimits()) == 0 {
			fmt.Fprintln(w, "no limits")
			return
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LIMIT\tKIND\tPERIOD\tUSED\tOF\tREMAINING\tRESETS")
		for _, l := range r.GetLimits() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", l.GetName(), l.GetKind(), l.GetPeriod(), l.GetUsed(), l.GetLimit(),
				l.GetRemaining(), timeOrDash(l.GetResetTime()))
		}
		_ = tw.Flush()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeOrDash(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}
