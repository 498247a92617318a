package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/secinbox/secinbox/triage"
)

// Password length bounds: bcrypt reads at most 72 bytes.
const minPassword, maxPassword = 12, 72

func cmdUserAdd(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("email", "", "the staff member's email address (their login)")
	role := fs.String("role", "triager", "admin, triager or viewer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin instead of generating one")
	if err := e.parse(fs); err != nil {
		return err
	}
	addr, err := mail.ParseAddress(*email)
	if err != nil || addr.Name != "" || *email == "" {
		fmt.Fprintln(e.stderr, "usage: secinbox user add --email E --role admin|triager|viewer [--password-stdin]")
		return errUsage
	}
	r, err := triage.ParseRole(*role)
	if err != nil {
		return err
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
		if len(password) < minPassword || len(password) > maxPassword {
			return fmt.Errorf("the password must be %d to %d bytes long", minPassword, maxPassword)
		}
	} else {
		password, generated = randomToken(18), true
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), triage.PasswordCost)
	if err != nil {
		return err
	}
	d, err := openData(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	u := &triage.User{Email: strings.ToLower(addr.Address), Role: r, PasswordHash: hash}
	if err := d.CreateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (%s)\n", u.Email, u.Role)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

// apiTokenPrefix marks secinbox tokens so secret scanners can find them.
const apiTokenPrefix = "secinbox_"

func cmdTokenCreate(ctx context.Context, e *env) error {
	var cfg Config
	fs := e.flags(&cfg)
	email := fs.String("user", "", "email of the staff member the token acts for (with their role)")
	name := fs.String("name", "api", "a label for the token")
	if err := e.parse(fs); err != nil {
		return err
	}
	if *email == "" {
		fmt.Fprintln(e.stderr, "usage: secinbox token create --user E [--name N]")
		return errUsage
	}
	d, err := openData(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("user %s: %w", *email, err)
	}
	token := apiTokenPrefix + randomToken(32)
	sum := sha256.Sum256([]byte(token))
	if err := d.CreateAPIToken(ctx, &triage.APIToken{UserID: u.ID, Name: *name, TokenHash: sum[:]}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
