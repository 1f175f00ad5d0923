package cellctl

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"testing"

	"cells/kernel"
)

func TestStrerror(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", kernel.ErrBusy), "Device busy"},
		{fmt.Errorf("x: %w", kernel.ErrNotExist), "No such file or directory"},
		{fmt.Errorf("x: %w", kernel.ErrExist), "File exists"},
		{fmt.Errorf("x: %w", kernel.ErrPermission), "Operation not permitted"},
		{fmt.Errorf("x: %w", kernel.ErrInvalid), "Invalid argument"},
		{syscall.EBUSY, "Device busy"},
		// The errno is more precise than the sentinel.
		{fmt.Errorf("%w: %w", kernel.ErrInvalid, syscall.ENOTDIR), "Not a directory"},
		{&exec.Error{Name: "x", Err: exec.ErrNotFound}, "No such file or directory"},
		{errors.New("something else"), "something else"},
	}
	for _, tc := range tests {
		if got := Strerror(tc.err); got != tc.want {
			t.Errorf("Strerror(%v) = %q; want %q", tc.err, got, tc.want)
		}
	}
}
