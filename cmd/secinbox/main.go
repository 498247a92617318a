// Command secinbox runs the security@ inbox: SMTP intake, the triage UI
// and the public pages, on one SQLite file.
//
//	secinbox serve                 run the SMTP and HTTP servers
//	secinbox user add ...          add a staff member
//	secinbox user list|role|disable|enable|reset-2fa ...
//	secinbox token create|list|revoke ...  API tokens
//	secinbox key export|import|list|rotate|set-primary|retire
//	secinbox backup FILE           write an encrypted snapshot while the server runs
//	secinbox restore FILE          fill an empty data directory (or -from-replica)
//	secinbox version               print the version and VCS revision
//	secinbox dns                   print the DNS records to publish
//
// Every subcommand takes the settings listed by `secinbox serve -h`, each
// a flag whose default comes from an environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Main runs one subcommand and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd, rest := "", []string(nil)
	if len(args) > 0 {
		cmd, rest = args[0], args[1:]
	}
	if cmd == "user" || cmd == "token" || cmd == "key" {
		if len(rest) == 0 {
			fmt.Fprintf(stderr, "usage: secinbox %s <subcommand>; see secinbox help\n", cmd)
			return 2
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	run, ok := commands[cmd]
	if !ok {
		if cmd != "" && cmd != "help" && cmd != "-h" && cmd != "--help" {
			fmt.Fprintf(stderr, "secinbox: unknown command %q\n", cmd)
		}
		fmt.Fprint(stderr, usage)
		if cmd == "help" || cmd == "-h" || cmd == "--help" {
			return 0
		}
		return 2
	}
	err := run(ctx, &env{args: rest, stdin: stdin, stdout: stdout, stderr: stderr, name: cmd})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "secinbox %s: %v\n", cmd, err)
	return 1
}

const usage = `usage: secinbox <command> [flags]

commands:
  serve                      run the SMTP intake, the web UI and the API
  version                    print the version, VCS revision and Go version (also -version)
  dns                        print the DNS records to publish for the mail domain (MX, MTA-STS, TLS reporting, WKD)
  user add --email E --role admin|triager|viewer [--password-stdin]
                             add a staff member (prints a generated password unless one is given on stdin)
  user list                  list the staff: email, role, two-factor, active or disabled
  user role --email E --role admin|triager|viewer
                             change a staff member's role
  user disable|enable --email E
                             stop a staff member signing in or using tokens (ends their sessions), or undo it
  user reset-2fa --email E   turn a staff member's two-factor sign-in off (a lost phone)
  token create --user E [--name N] [--expires 90d]
                             create an API bearer token for a staff member (expires after 90 days
                             unless --expires says otherwise, at most 365d)
  token list [--user E]      list API tokens: id, user, name, made, expires, last used, state
  token revoke --id N        revoke an API token: it is refused from then on
  key export [--secret] [--all | --key FPR]
                             print the team's primary public key (armored); --secret: the
                             secret key, still locked with the key passphrase (a backup)
  key import [--primary=false] [--key FPR | --all] FILE
                             import a secret key as GnuPG exports it (its passphrase on stdin)
  key list                   list the team's keys: primary, decrypting, retired, expiry
  key rotate [--algorithm ed25519|rsa3072|rsa4096]
                             make a new primary key; the old one keeps decrypting
  key set-primary FPR        publish another of the team's keys
  key retire FPR             stop a key from decrypting (it stays stored)
  backup [-to RECIPIENT]... FILE
                             write an encrypted snapshot of the data directory, also while the
                             server runs: to age recipients, else with the key passphrase
  restore [-identity FILE] BACKUP
  restore -from-replica [URL]
                             fill an empty data directory from a backup or from the replica

Run 'secinbox serve -h' for the settings every command takes.
`

var errUsage = errors.New("usage")

// env is what a subcommand gets: its arguments and standard streams.
type env struct {
	name           string
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	envErr         error // an environment variable that did not parse
}

// flags returns a flag set for the subcommand with every setting
// registered, so that each command finds the same data directory.
func (e *env) flags(cfg *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("secinbox "+e.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	e.envErr = cfg.register(fs)
	settings := map[string]bool{}
	for _, s := range cfg.settings() {
		settings[s.flag] = true
	}
	fs.Usage = func() { e.usage(fs, settings) }
	return fs
}

// usage prints the subcommand's own flags first, then the settings every
// command takes (in full for serve, whose page they are).
func (e *env) usage(fs *flag.FlagSet, settings map[string]bool) {
	w := fs.Output()
	fmt.Fprintf(w, "usage: secinbox %s [flags]\n", e.name)
	var own, shared []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if settings[f.Name] {
			shared = append(shared, f)
		} else {
			own = append(own, f)
		}
	})
	printFlags := func(fl []*flag.Flag) {
		for _, f := range fl {
			name, usage := flag.UnquoteUsage(f)
			line := "  -" + f.Name
			if name != "" {
				line += " " + name
			}
			fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(w)
		}
	}
	if len(own) > 0 {
		fmt.Fprintln(w, "\nflags of this command:")
		printFlags(own)
	}
	if e.name == "serve" {
		fmt.Fprintln(w, "\nsettings (each a flag whose default comes from the environment variable shown):")
		printFlags(shared)
		return
	}
	fmt.Fprintln(w, "\nand every setting of 'secinbox serve -h' (-data, the key passphrase, ...), each also from its environment variable")
}

// parse parses the subcommand's flags; a flag error is a usage error.
func (e *env) parse(fs *flag.FlagSet) error {
	if e.envErr != nil {
		return fmt.Errorf("environment: %w", e.envErr)
	}
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

var commands = map[string]func(context.Context, *env) error{
	"serve":           cmdServe,
	"version":         cmdVersion,
	"dns":             cmdDNS,
	"-version":        cmdVersion,
	"--version":       cmdVersion,
	"user add":        cmdUserAdd,
	"user list":       cmdUserList,
	"user role":       cmdUserRole,
	"user disable":    cmdUserDisable,
	"user enable":     cmdUserEnable,
	"user reset-2fa":  cmdUserResetTwoFactor,
	"token create":    cmdTokenCreate,
	"token list":      cmdTokenList,
	"token revoke":    cmdTokenRevoke,
	"key export":      cmdKeyExport,
	"key import":      cmdKeyImport,
	"key list":        cmdKeyList,
	"key rotate":      cmdKeyRotate,
	"key set-primary": cmdKeySetPrimary,
	"key retire":      cmdKeyRetire,
	"backup":          cmdBackup,
	"restore":         cmdRestore,
}
