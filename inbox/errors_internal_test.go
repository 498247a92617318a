package inbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"
)

type diskFull struct{}

func (diskFull) Error() string  { return "database or disk is full" }
func (diskFull) DiskFull() bool { return true }

// TestSMTPError: our own failures are 4xx, whatever they are; replies we
// chose pass through unchanged.
func TestSMTPError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("db: add raw message: %w", errors.New("database is locked")), 451},
		{fmt.Errorf("db: add raw message: %w", diskFull{}), 452},
		{fmt.Errorf("write: %w", syscall.ENOSPC), 452},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), 421},
		{smtp.ErrDataTooLarge, 552},
		{smtp.ErrTooLongLine, 500},
		{errBareCR, 554},
	} {
		got := smtpError(tc.err)
		if got.Code != tc.code {
			t.Errorf("smtpError(%v) = %d, want %d", tc.err, got.Code, tc.code)
		}
	}
}
