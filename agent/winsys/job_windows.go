package winsys

import (
	"errors"
	"fmt"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"

	"adhocstation/agent/support"
)

var _ support.TreeTracker = (*logon)(nil)

// A command's process tree lives in a job object with
// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: terminating or closing the job ends
// the shell and everything it started (a child is in its parent's job from
// its creation on). The process starts suspended (Command sets
// CREATE_SUSPENDED) and is resumed only once it is in the job, so not even
// a child started in its first instant escapes.

// Track puts the suspended command into a new job and resumes it; kill
// terminates the job and closes it. On an error the process is resumed
// all the same and kill ends it alone.
func (l *logon) Track(cmd *exec.Cmd) (kill func() error, err error) {
	pid := uint32(cmd.Process.Pid)
	job, err := newKillJob()
	if err == nil {
		err = assign(job, pid)
		if err != nil {
			windows.CloseHandle(job)
		}
	}
	if rerr := resume(pid); rerr != nil {
		if err == nil {
			windows.CloseHandle(job) // KILL_ON_JOB_CLOSE: a process that cannot run must not hang
		}
		_ = cmd.Process.Kill()
		return func() error { return nil }, fmt.Errorf("the command could not be resumed: %w", rerr)
	}
	if err != nil {
		return cmd.Process.Kill, err
	}
	return func() error {
		terr := windows.TerminateJobObject(job, 1)
		return errors.Join(terr, windows.CloseHandle(job))
	}, nil
}

func newKillJob() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateJobObject: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("SetInformationJobObject: %w", err)
	}
	return job, nil
}

func assign(job windows.Handle, pid uint32) error {
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		return fmt.Errorf("OpenProcess: %w", err)
	}
	defer windows.CloseHandle(p)
	if err := windows.AssignProcessToJobObject(job, p); err != nil {
		return fmt.Errorf("AssignProcessToJobObject: %w", err)
	}
	return nil
}

// resume resumes the threads of a process started suspended (exec closes
// the thread handle CreateProcess returned, so they are found by pid).
func resume(pid uint32) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("CreateToolhelp32Snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	e := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &e); err == nil; err = windows.Thread32Next(snap, &e) {
		if e.OwnerProcessID != pid {
			continue
		}
		t, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, e.ThreadID)
		if err != nil {
			return fmt.Errorf("OpenThread: %w", err)
		}
		_, err = windows.ResumeThread(t)
		windows.CloseHandle(t)
		if err != nil {
			return fmt.Errorf("ResumeThread: %w", err)
		}
		resumed++
	}
	if resumed == 0 {
		return fmt.Errorf("no thread of process %d found", pid)
	}
	return nil
}
